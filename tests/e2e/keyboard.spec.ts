import { cloudEvent, eventId, expect, signIn, test, uniqueName, waitForRecorded } from "./fixtures";
import { E2E_START_TOPICS } from "./env";

// The dashboard by keyboard: skip links first, "/" focuses the page's filter, the running live tail stays out
// of the Tab order (its rows come and go) until paused, and dialogs give focus back to what opened them.

test("skip links come first and jump to the content or the main menu", async ({ page }) => {
  await signIn(page);
  await page.goto("/");
  await expect(page.getByTestId("topic-row").first()).toBeVisible();
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.locator("main#main")).toBeFocused();

  await page.goto("/");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to main menu" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("navigation", { name: "Main" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Topics", exact: true })).toBeFocused();
});

test("/ focuses the filter of the page, but not while typing", async ({ page }) => {
  await signIn(page);
  await page.goto("/");
  await expect(page.getByTestId("topic-row").first()).toBeVisible();
  await page.keyboard.press("/");
  const topicsFilter = page.getByRole("searchbox", { name: "Filter topics by name" });
  await expect(topicsFilter).toBeFocused();
  await page.keyboard.type("e2e-orders");
  await expect(topicsFilter).toHaveValue("e2e-orders");
  await expect(page.getByTestId("topic-row")).toHaveCount(1);

  // The topic page leads with its history: "/" goes to the history's filter (before the live tail's).
  await page.goto(`/topics/${E2E_START_TOPICS[0]}`);
  await expect(page.getByTestId("live-status")).toHaveText("live");
  await page.keyboard.press("/");
  const historyFilter = page.getByRole("searchbox", { name: "Filter", exact: true });
  await expect(historyFilter).toBeFocused();
  await page.keyboard.type("a/b");
  await expect(historyFilter, "a / typed into a field stays in it").toHaveValue("a/b");
  const liveFilter = page.getByRole("searchbox", { name: "Filter live messages" });
  await liveFilter.focus();
  await page.keyboard.type("c/d");
  await expect(liveFilter).toHaveValue("c/d");

  await page.goto("/ordering");
  await expect(page.getByRole("heading", { name: "Ordering" })).toBeVisible();
  await page.keyboard.press("/");
  await expect(page.getByRole("combobox", { name: "Topic" })).toBeFocused();

  await page.goto("/audit");
  await expect(page.getByRole("heading", { name: "Audit log" })).toBeVisible();
  await page.keyboard.press("/");
  await expect(page.getByRole("textbox", { name: "Actor starts with" })).toBeFocused();
});

test("the live tail is out of the Tab order while it runs and in it once paused", async ({ page, api }) => {
  const topic = uniqueName("e2e-keys-live");
  await api.createTopic(topic);
  await signIn(page);
  await page.goto(`/topics/${encodeURIComponent(topic)}`);
  await expect(page.getByTestId("live-status")).toHaveText("live");
  for (let i = 0; i < 3; i++) await api.publish(topic, cloudEvent({ id: eventId(`keys-live-${i}`) }));
  const rows = page.getByTestId("live-message");
  await expect(rows).toHaveCount(3);
  const liveList = page.getByRole("list", { name: "Live messages" });
  const focusInList = () => liveList.evaluate((list) => list.contains(document.activeElement));

  const clear = page.getByRole("button", { name: "Clear" });
  await clear.focus();
  await page.keyboard.press("Tab");
  expect(await focusInList(), "Tab from Clear skips the running tail").toBe(false);

  await page.getByRole("button", { name: "Pause" }).click();
  await expect(page.getByTestId("live-status")).toHaveText("paused");
  await clear.focus();
  await page.keyboard.press("Tab");
  expect(await focusInList(), "Tab from Clear enters the paused tail").toBe(true);
  await expect(rows.first().getByRole("link").first()).toBeFocused();
});

test("dialogs give focus back to their trigger", async ({ page, api }) => {
  const topic = E2E_START_TOPICS[0]!;
  const id = eventId("keys-replay");
  await api.publish(topic, cloudEvent({ id }));
  await waitForRecorded(api, id);
  await signIn(page);
  await page.goto(`/messages/${encodeURIComponent(id)}`);
  const trigger = page.getByRole("button", { name: "Replay…" });

  await trigger.click();
  await expect(page.getByRole("dialog", { name: "Replay message" })).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await expect(trigger).toBeFocused();

  await trigger.focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "Replay message" });
  await dialog.getByRole("button", { name: "Replay", exact: true }).click();
  await expect(dialog.getByTestId("replay-new-id")).toBeVisible();
  await dialog.getByRole("button", { name: "Close", exact: true }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await expect(trigger).toBeFocused();

  // On the ordering board: Cancel returns to "Discard…".
  const stalled = uniqueName("e2e-keys-board");
  await api.createTopic(stalled, true);
  await api.setFailing(stalled, true);
  await api.publish(stalled, cloudEvent({ id: eventId("keys-stall"), orderingkey: "k" }));
  await api.setFailing(stalled, false);
  await page.goto(`/ordering?topic=${encodeURIComponent(stalled)}`);
  const discard = page.getByTestId("stall-card").getByRole("button", { name: "Discard…" });
  await discard.click();
  await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
  await expect(discard).toBeFocused();
});
