import type { Page } from "@playwright/test";
import { cloudEvent, eventId, expect, signIn, snap, test, uniqueName, type Api } from "./fixtures";

// The ordering board as an operator uses it: resume from the topics page in two clicks with the outcome in
// view, page through every message of a key, resume or discard every key at once after a confirmation that
// names the count per key, and a resume that fails again.

/** Makes `key` of the ordered `topic` stall with `count` messages (one batch request while sends fail). */
async function stallKey(api: Api, topic: string, key: string, count: number): Promise<string[]> {
  const events = Array.from({ length: count }, (_, i) => cloudEvent({ id: eventId(`${key}-${i}`), orderingkey: key, data: { n: i } }));
  const res = await api.request.post(`/api/topics/${encodeURIComponent(topic)}/events`, {
    headers: { "Content-Type": "application/cloudevents-batch+json" },
    data: JSON.stringify(events),
  });
  expect(res.status(), await res.text()).toBe(202);
  await expect
    .poll(async () => {
      const { stalled } = (await (await api.request.get(`/api/ordering?topic=${encodeURIComponent(topic)}`)).json()) as {
        stalled: Array<{ orderingKey: string; waitingCount: number }>;
      };
      return stalled.find((s) => s.orderingKey === key)?.waitingCount ?? 0;
    }, { message: `${count} messages of ${key} on the board` })
    .toBe(count);
  return events.map((e) => e.id);
}

async function stalledTopic(api: Api, keys: Record<string, number>): Promise<{ topic: string; ids: Record<string, string[]> }> {
  const topic = uniqueName("e2e-board");
  await api.createTopic(topic, true);
  await api.setFailing(topic, true);
  const ids: Record<string, string[]> = {};
  for (const [key, count] of Object.entries(keys)) ids[key] = await stallKey(api, topic, key, count);
  await api.setFailing(topic, false);
  return { topic, ids };
}

/** Whether the element lies entirely inside the viewport as the page is scrolled now. */
async function inViewport(page: Page, testId: string, within = page.locator("body")): Promise<boolean> {
  const box = await within.getByTestId(testId).first().boundingBox();
  const viewport = page.viewportSize()!;
  return box !== null && box.y >= 0 && box.x >= 0 && box.y + box.height <= viewport.height && box.x + box.width <= viewport.width;
}

test("resume from the topics page takes 2 clicks and shows the outcome in view, without scrolling", async ({ page, api }, testInfo) => {
  const key = uniqueName("cart");
  const { topic } = await stalledTopic(api, { [key]: 120 });
  await signIn(page);
  await page.goto("/");

  let clicks = 0;
  const row = page.getByTestId("topic-row").filter({ has: page.getByRole("link", { name: topic, exact: true }) });
  await row.getByRole("link", { name: /paused ordering key/ }).click();
  clicks++;
  const card = page.getByTestId("stall-card").filter({ hasText: key });
  await expect(card).toContainText("120 messages waiting");
  expect(await page.evaluate(() => window.scrollY), "the board opened at the top").toBe(0);
  await card.getByRole("button", { name: "Resume", exact: true }).click();
  clicks++;

  await expect(card.getByTestId("stall-result")).toHaveText("Resumed: 120 of 120 messages published.");
  await expect(page.getByTestId("toast").filter({ hasText: `Key ${key} on ${topic}: Resumed: 120 of 120` })).toBeVisible();
  expect(clicks, "clicks from the topics page to the outcome").toBeLessThanOrEqual(2);
  expect(await page.evaluate(() => window.scrollY), "no scrolling").toBe(0);
  expect(await inViewport(page, "stall-result", card), "the inline outcome is in the viewport").toBe(true);
  expect(await inViewport(page, "toast"), "the toast is in the viewport").toBe(true);
  await expect(card.getByTestId("stall-result")).toBeFocused();
  await snap(page, testInfo, "ordering-board-resumed");
});

test("show all pages through every message of a key while the DOM holds only the rows in view", async ({ page, api }) => {
  const key = uniqueName("bulk");
  const { topic, ids } = await stalledTopic(api, { [key]: 250 });
  await signIn(page);
  await page.goto(`/ordering?topic=${encodeURIComponent(topic)}`);
  const card = page.getByTestId("stall-card").filter({ hasText: key });
  const rows = card.getByTestId("stalled-message");
  await expect(rows).toHaveCount(5);
  for (const [i, id] of ids[key]!.slice(0, 5).entries()) await expect(rows.nth(i)).toContainText(id);

  await card.getByRole("button", { name: "Show all 250 messages" }).click();
  await expect(card.getByText("100 of 250 loaded")).toBeVisible();
  const list = card.getByRole("list", { name: `Messages of key ${key}` });
  // Scrolling to the end loads the next pages, until every message is loaded and the last one is in view.
  await expect
    .poll(async () => {
      await list.evaluate((ol) => ol.parentElement!.scrollTo({ top: ol.parentElement!.scrollHeight }));
      return card.getByText("250 of 250 loaded").isVisible();
    }, { message: "every page loaded by scrolling" })
    .toBe(true);
  await list.evaluate((ol) => ol.parentElement!.scrollTo({ top: ol.parentElement!.scrollHeight }));
  await expect(rows.filter({ hasText: ids[key]![249]! })).toBeVisible();
  expect(await rows.count(), "rows in the DOM (virtualized)").toBeLessThan(40);
});

test("resume all and discard all confirm with the count per key, then report at the buttons", async ({ page, api }, testInfo) => {
  const [a, b] = [uniqueName("acct"), uniqueName("acct")];
  const resumed = await stalledTopic(api, { [a]: 3, [b]: 2 });
  await signIn(page);
  await page.goto(`/ordering?topic=${encodeURIComponent(resumed.topic)}`);
  await expect(page.getByTestId("stall-card")).toHaveCount(2);

  await page.getByRole("button", { name: "Resume all…" }).click();
  const dialog = page.getByRole("dialog", { name: "Resume 2 keys, 5 messages?" });
  const perKey = dialog.getByRole("list", { name: "Keys and their waiting messages" }).getByRole("listitem");
  await expect(perKey.filter({ hasText: a })).toContainText("3 messages");
  await expect(perKey.filter({ hasText: b })).toContainText("2 messages");
  await snap(page, testInfo, "ordering-board-resume-all-confirm");
  await dialog.getByRole("button", { name: "Resume 2 keys" }).click();
  await expect(page.getByTestId("bulk-result")).toHaveText("Resume all: 2 keys resumed, 5 messages published.");
  await expect(page.getByTestId("bulk-result")).toBeFocused();
  await expect(page.getByTestId("toast").filter({ hasText: "Resume all: 2 keys resumed" })).toBeVisible();
  for (const key of [a, b]) await expect(page.getByTestId("stall-card").filter({ hasText: key })).toContainText("resumed");

  const c = uniqueName("acct");
  const discarded = await stalledTopic(api, { [c]: 4 });
  await page.goto(`/ordering?topic=${encodeURIComponent(discarded.topic)}`);
  await page.getByRole("button", { name: "Discard all…" }).click();
  const confirm = page.getByRole("dialog", { name: "Discard 1 key, 4 messages?" });
  await expect(confirm.getByRole("listitem").filter({ hasText: c })).toContainText("4 messages");
  await confirm.getByRole("button", { name: "Discard 1 key" }).click();
  await expect(page.getByTestId("bulk-result")).toHaveText("Discard all: 1 key discarded, 4 messages dropped.");
  await expect(page.getByTestId("stall-card").filter({ hasText: c }).getByTestId("stall-result")).toHaveText("Discarded 4 messages.");
  const audit = (await (await api.request.get(`/api/audit?action=stall.discard`)).json()) as { items: Array<{ details: { orderingKey?: string } }> };
  expect(audit.items.some((e) => e.details.orderingKey === c), "the discard is in the audit log").toBe(true);
});

test("a resume that fails again says where it stopped, at the button and as a toast", async ({ page, api }) => {
  const key = uniqueName("retry");
  const { topic, ids } = await stalledTopic(api, { [key]: 3 });
  await api.setFailing(topic, true);
  await signIn(page);
  await page.goto(`/ordering?topic=${encodeURIComponent(topic)}`);
  const card = page.getByTestId("stall-card").filter({ hasText: key });
  await card.getByRole("button", { name: "Resume", exact: true }).click();
  const result = card.getByTestId("stall-result");
  await expect(result).toContainText(`Resume stopped at #1 (${ids[key]![0]})`, { timeout: 30_000 });
  await expect(result).toContainText("0 of 3 messages published; the rest wait.");
  await expect(result).toHaveAttribute("data-ok", "false");
  await expect(page.getByTestId("toast").filter({ hasText: `Key ${key} on ${topic}: Resume stopped` })).toBeVisible();
  await expect(card).toContainText("failed");
  await expect(card.getByRole("button", { name: "Resume", exact: true })).toBeEnabled();
  await api.setFailing(topic, false);
});
