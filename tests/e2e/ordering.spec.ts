import { cloudEvent, eventId, expect, signIn, snap, test, uniqueName } from "./fixtures";

// Make an ordering key stall (the in-process bus fails sends on purpose), see it on the ordering board,
// press Resume, see the outcome at the button and the messages delivered in their original order.
test("resume a stalled ordering key and see the messages delivered in order", async ({ page, context, api }, testInfo) => {
  const topic = uniqueName("e2e-ordered");
  const key = uniqueName("customer");
  await api.createTopic(topic, true);
  await api.setFailing(topic, true);

  const ids = [eventId("ord-1"), eventId("ord-2"), eventId("ord-3")];
  for (const [i, id] of ids.entries()) {
    const outcomes = await api.publish(topic, cloudEvent({ id, type: `com.example.e2e.step${i + 1}`, orderingkey: key, data: { step: i + 1 } }));
    expect(outcomes.map((o) => o.status)).toEqual(["failed"]);
  }
  // A second key stalls too; it is discarded below.
  const otherKey = uniqueName("customer");
  await api.publish(topic, cloudEvent({ id: eventId("other"), orderingkey: otherKey }));
  await api.setFailing(topic, false);
  await signIn(page);

  // A second tab tails the topic live, to see the resent messages arrive.
  const tail = await context.newPage();
  await tail.goto(`/topics/${encodeURIComponent(topic)}`);
  await expect(tail.getByTestId("live-status")).toHaveText("live");

  // The overview flags the paused key and links to the board.
  await page.goto("/");
  const row = page.getByTestId("topic-row").filter({ has: page.getByRole("link", { name: topic, exact: true }) });
  await row.getByRole("link", { name: /paused ordering key/ }).click();
  await expect(page).toHaveURL(/\/ordering\?topic=/);

  const card = page.getByTestId("stall-card").filter({ hasText: key });
  await expect(card).toBeVisible();
  await expect(card).toContainText("stalled");
  await expect(card.getByTestId("stalled-message")).toHaveCount(ids.length);
  for (const [i, id] of ids.entries()) await expect(card.getByTestId("stalled-message").nth(i)).toContainText(id);
  await snap(page, testInfo, "ordering-stalled");

  await card.getByRole("button", { name: "Resume" }).click();
  // The outcome: one sentence at the card's buttons (not a row per message), and the same as a toast.
  await expect(card.getByTestId("stall-result")).toHaveText(`Resumed: ${ids.length} of ${ids.length} messages published.`);
  await expect(page.getByTestId("toast").filter({ hasText: `Key ${key} on ${topic}: Resumed` })).toBeVisible();
  await expect(card).toContainText("resumed");
  await expect(card.getByRole("button", { name: "Resume" })).toHaveCount(0);
  await snap(page, testInfo, "ordering-resumed");

  // Discard asks first, naming the count, then says at the card what it dropped.
  const otherCard = page.getByTestId("stall-card").filter({ hasText: otherKey });
  await otherCard.getByRole("button", { name: "Discard…" }).click();
  const confirm = page.getByRole("dialog", { name: /Discard 1 stalled message\?/ });
  await expect(confirm).toBeVisible();
  await confirm.getByRole("button", { name: "Discard", exact: true }).click();
  await expect(otherCard.getByTestId("stall-result")).toHaveText("Discarded 1 message.");
  await expect(otherCard).toContainText("discarded");
  await expect(otherCard.getByRole("button", { name: "Discard…" })).toHaveCount(0);

  // Delivered in order: the live tail lists newest first, so the original order reads bottom-up.
  const live = tail.getByTestId("live-message");
  await expect(live).toHaveCount(ids.length);
  for (const [i, id] of [...ids].reverse().entries()) await expect(live.nth(i)).toContainText(id);
  await snap(tail, testInfo, "ordering-delivered-live");
});
