import { cloudEvent, eventId, expect, expectInHistory, signIn, snap, test, uniqueName, waitForRecorded } from "./fixtures";

// Open a message → Replay (confirm dialog: target topic, id policy) → the copy appears in the topic's
// history marked as a replay, and its inspector links back to the original.
test("replay a message and find the copy with replayof", async ({ page, api }, testInfo) => {
  const topic = uniqueName("e2e-replay");
  await api.createTopic(topic);
  const original = eventId("orig");
  await api.publish(
    topic,
    cloudEvent({ id: original, type: "com.example.e2e.replay", subject: "order-7", data: { order: 7, items: [{ sku: "A-1", qty: 2 }] } }),
  );
  await waitForRecorded(api, original);
  await signIn(page);

  await page.goto(`/messages/${encodeURIComponent(original)}`);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(original);
  await expect(page.getByRole("table", { name: "CloudEvents attributes" })).toContainText("com.example.e2e.replay");
  await expect(page.getByTestId("json-tree")).toContainText('"sku": "A-1"');
  // The JSON tree collapses and expands with the keyboard-reachable toggle.
  const itemsToggle = page.getByRole("button", { name: /Collapse items/ });
  await itemsToggle.click();
  await expect(page.getByRole("button", { name: /Expand items/ })).toHaveAttribute("aria-expanded", "false");
  await expect(page.getByTestId("json-tree")).not.toContainText('"sku"');
  await page.getByRole("button", { name: /Expand items/ }).click();
  await snap(page, testInfo, "message");

  // Copy as JSON gives the structured CloudEvent; copy as curl a command that publishes it again.
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  const clipboard = () => page.evaluate(() => navigator.clipboard.readText());
  await page.getByRole("button", { name: "Copy as JSON" }).click();
  await expect.poll(clipboard).toContain(original);
  const copied = JSON.parse(await clipboard());
  expect(copied).toMatchObject({ specversion: "1.0", id: original, type: "com.example.e2e.replay", data: { order: 7 } });
  await page.getByRole("button", { name: "Copy as curl" }).click();
  await expect.poll(clipboard).toContain(`/api/topics/${topic}/events`);
  expect(await clipboard()).toContain("application/cloudevents+json");

  // The dialog is modal: focus moves into it and Escape closes it.
  await page.getByRole("button", { name: "Replay…" }).click();
  const dialog = page.getByRole("dialog", { name: "Replay message" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel("Target topic")).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();

  await page.getByRole("button", { name: "Replay…" }).click();
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel("Target topic")).toHaveValue(topic);
  await expect(dialog.getByRole("radio", { name: /New id/ })).toBeChecked();
  await expect(dialog).toContainText(`replayof=${original}`);
  await snap(page, testInfo, "replay-dialog");
  await dialog.getByRole("button", { name: "Replay", exact: true }).click();

  const newIdText = dialog.getByTestId("replay-new-id");
  await expect(newIdText).toBeVisible();
  const copyId = (await newIdText.textContent())?.trim() ?? "";
  expect(copyId).not.toBe("");
  expect(copyId).not.toBe(original);

  // The copy appears in the topic's history, marked as a replay of the original.
  await dialog.getByRole("link", { name: `Open topic ${topic}` }).click();
  await expect(page.getByRole("heading", { level: 1, name: topic })).toBeVisible();
  const copyRow = page.getByTestId("history-row").filter({ hasText: copyId });
  // The list shows what was recorded when it loaded; the copy is in it, or announced as new until shown.
  await expectInHistory(page, () => expect(copyRow).toBeVisible({ timeout: 1_000 }));
  await expect(copyRow.getByRole("link", { name: /replay of/ })).toHaveAttribute("href", `/messages/${encodeURIComponent(original)}`);
  await snap(page, testInfo, "topic-with-replay");

  // The copy's inspector shows the replayof extension and links back to the original.
  await copyRow.getByRole("link", { name: copyId }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText(copyId);
  await expect(page.getByRole("table", { name: "Extensions" })).toContainText(original);
  await page.getByTestId("replay-of").getByRole("link", { name: original }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText(original);
});
