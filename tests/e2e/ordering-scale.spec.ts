import { cloudEvent, eventId, expect, signIn, test, uniqueName } from "./fixtures";

// The ordering board stays small however many messages wait behind a stalled key: one key stalled behind
// STALLED messages, then the board's poll (GET /api/ordering) and its DOM are measured and bounded, before and
// after resuming them. The figures are printed (`ordering-board scale: …`) so they can be compared across
// versions: before the board summarised keys, this was a 71,427-byte poll and 3,576 elements.

const STALLED = 700;
/** Bound of one poll of the board with one stalled key, whatever STALLED is. */
const MAX_POLL_BYTES = 8 * 1024;
/** Bound of the element count of the whole board page with one stalled key. */
const MAX_DOM_NODES = 600;

test("the ordering board's poll and DOM stay bounded with one key stalled behind 700 messages", async ({ page, api }) => {
  const topic = uniqueName("e2e-scale");
  const key = uniqueName("bulk-key");
  await api.createTopic(topic, true);
  await api.setFailing(topic, true);
  const events = Array.from({ length: STALLED }, (_, i) => cloudEvent({ id: eventId(`bulk-${i}`), orderingkey: key, data: { n: i } }));
  const res = await api.request.post(`/api/topics/${encodeURIComponent(topic)}/events`, {
    headers: { "Content-Type": "application/cloudevents-batch+json" },
    data: JSON.stringify(events),
  });
  expect(res.status(), await res.text()).toBe(202);
  await api.setFailing(topic, false);
  // Every message of the batch is on the key's entry before the board is measured.
  await expect
    .poll(async () => {
      const body = (await (await api.request.get(`/api/ordering?topic=${encodeURIComponent(topic)}`)).json()) as {
        stalled: Array<{ messageCount?: number; messages: unknown[] }>;
      };
      const entry = body.stalled[0];
      return entry ? (entry.messageCount ?? entry.messages.length) : 0;
    }, { message: `${STALLED} messages stored on the stall`, timeout: 60_000 })
    .toBe(STALLED);

  await signIn(page);
  const polls: number[] = [];
  // A poll still in flight when the test ends has no body to read any more: only finished polls count.
  page.on("response", (response) => {
    const url = new URL(response.url());
    if (url.pathname !== "/api/ordering" || response.request().method() !== "GET") return;
    response.body().then(
      (body) => polls.push(body.byteLength),
      () => {},
    );
  });
  await page.goto(`/ordering?topic=${encodeURIComponent(topic)}`);
  const card = page.getByTestId("stall-card").filter({ hasText: key });
  await expect(card).toBeVisible();
  await expect(card).toContainText(`${STALLED}`);
  await expect.poll(() => polls.length, { message: "a poll of the board" }).toBeGreaterThan(0);
  const domNodes = await page.evaluate(() => document.querySelectorAll("*").length);
  const pollBytes = Math.max(...polls);
  console.log(`ordering-board scale: ${STALLED} stalled messages on one key: poll ${pollBytes} bytes, DOM ${domNodes} elements`);
  expect(pollBytes, "bytes of one GET /api/ordering").toBeLessThan(MAX_POLL_BYTES);
  expect(domNodes, "elements on the board page").toBeLessThan(MAX_DOM_NODES);

  // The outcome of resuming them all is one sentence, not a row per message.
  await card.getByRole("button", { name: "Resume", exact: true }).click();
  await expect(card.getByTestId("stall-result")).toHaveText(`Resumed: ${STALLED} of ${STALLED} messages published.`, { timeout: 60_000 });
  const afterResume = await page.evaluate(() => document.querySelectorAll("*").length);
  console.log(`ordering-board scale: after resuming the ${STALLED}: DOM ${afterResume} elements`);
  expect(afterResume, "elements on the board page after the resume").toBeLessThan(MAX_DOM_NODES);
});
