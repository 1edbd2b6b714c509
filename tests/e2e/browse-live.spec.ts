import { cloudEvent, eventId, expect, expectInHistory, snap, test, uniqueName } from "./fixtures";
import { E2E_TOKEN } from "./env";

// Browse topics → open a topic → see live messages arrive (published through the API and through the form).
test("browse topics, open one, and watch live messages arrive", async ({ page, api }, testInfo) => {
  const topic = uniqueName("e2e-live");

  // Not signed in: any page sends us to the login form, which brings us back.
  await page.goto("/");
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByRole("heading", { name: "Sign in to whisper" })).toBeVisible();
  await snap(page, testInfo, "login");
  await page.getByLabel("Admin token").fill(E2E_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Topics", exact: true })).toBeVisible();

  // Topics managed from the start are listed; create one more with the form.
  const table = page.getByRole("table");
  await expect(table.getByRole("link", { name: "e2e-demo", exact: true })).toBeVisible();
  await page.getByLabel("New topic name").fill(topic);
  await page.getByLabel("Ordered (ordering keys)").check();
  await page.getByRole("button", { name: "Create topic" }).click();
  await expect(page.getByRole("status").filter({ hasText: `Created topic ${topic}` })).toBeVisible();
  await expect(table.getByRole("link", { name: topic, exact: true })).toBeVisible();
  await snap(page, testInfo, "topics-overview");

  // Open it; wait for the live stream to be connected before publishing.
  await table.getByRole("link", { name: topic, exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/topics/${topic}$`));
  await expect(page.getByRole("heading", { level: 1, name: topic })).toBeVisible();
  await expect(page.getByTestId("live-status")).toHaveText("live");

  const ids = [eventId("live-a"), eventId("live-b"), eventId("live-c")];
  for (const id of ids) {
    const [outcome] = await api.publish(topic, cloudEvent({ id, type: "com.example.e2e.live", subject: id }));
    expect(outcome.status).toBe("published");
  }
  const live = page.getByTestId("live-message");
  for (const id of ids) await expect(live.filter({ hasText: id })).toBeVisible();

  // The publish form (the side panel's Publish tab) sends a structured CloudEvent with an ordering key; it shows
  // up live as well.
  await page.getByRole("tab", { name: "Publish" }).click();
  const form = page.getByRole("form", { name: "Publish test event" });
  const formId = eventId("form");
  await form.getByLabel("Type", { exact: true }).fill("com.example.e2e.form");
  await form.getByLabel("Ordering key", { exact: true }).fill("customer-42");
  await form.getByLabel("Id", { exact: true }).fill(formId);
  await form.getByRole("button", { name: "Publish" }).click();
  await expect(form.getByRole("list", { name: "Publish results" })).toContainText("published");
  await page.getByRole("tab", { name: "Live tail" }).click();
  await expect(live.filter({ hasText: formId })).toContainText("key customer-42");

  // Pause holds new messages back; Resume shows them.
  await page.getByRole("button", { name: "Pause" }).click();
  const held = eventId("held");
  await api.publish(topic, cloudEvent({ id: held }));
  await expect(page.getByRole("button", { name: /Resume \(1 new\)/ })).toBeVisible();
  await expect(live.filter({ hasText: held })).toHaveCount(0);
  await page.getByRole("button", { name: /Resume/ }).click();
  await expect(live.filter({ hasText: held })).toBeVisible();

  // The history has them too: it was empty when the page opened, so it filled itself as they were recorded;
  // rows recorded after that are announced and shown on demand, never inserted under the reader.
  const history = page.getByTestId("history-row");
  await expectInHistory(page, async () => {
    for (const id of [...ids, formId, held]) await expect(history.filter({ hasText: id })).toBeVisible({ timeout: 1_000 });
  });
  await snap(page, testInfo, "topic");

  // Back on the overview the counts moved.
  await page.getByRole("link", { name: "Topics", exact: true }).first().click();
  const row = page.getByTestId("topic-row").filter({ has: page.getByRole("link", { name: topic, exact: true }) });
  await expect(row.getByRole("cell").first()).toHaveText("5");
  await snap(page, testInfo, "topics-overview-after");

  // The theme toggle pins dark mode (remembered across reloads) and goes back to the system setting.
  const html = page.locator("html");
  await page.getByRole("button", { name: "Dark", exact: true }).click();
  await expect(html).toHaveAttribute("data-theme", "dark");
  await page.reload();
  await expect(html).toHaveAttribute("data-theme", "dark");
  await expect(page.getByRole("button", { name: "Dark", exact: true })).toHaveAttribute("aria-pressed", "true");
  await snap(page, testInfo, "topics-overview-dark");
  await page.getByRole("button", { name: "Auto", exact: true }).click();
  await expect(html).not.toHaveAttribute("data-theme", /./);
});
