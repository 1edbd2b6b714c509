import { cloudEvent, eventId, expect, signIn, test, uniqueName } from "./fixtures";
import { boxesOf, overlapping, withinWidth } from "./page-checks";

// A phone-sized viewport (390×844): the topics table and the live tail lay out without overlapping elements
// and without anything pushed off-screen, checked on the elements' bounding boxes.

test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

const LONG_TYPE = "com.example.inventory.stock.reservation.confirmed";

test("topics table: nothing overlaps, the paused-keys badge is on screen, no sideways scrolling", async ({ page, api }) => {
  const topic = uniqueName("e2e-mobile");
  await api.createTopic(topic, true);
  await api.setFailing(topic, true);
  await api.publish(topic, cloudEvent({ id: eventId("mobile-stall"), orderingkey: uniqueName("k") }));
  await api.setFailing(topic, false);
  await signIn(page);
  await page.goto("/");

  const row = page.getByTestId("topic-row").filter({ has: page.getByRole("link", { name: topic, exact: true }) });
  const badge = row.getByRole("link", { name: /paused ordering key/ });
  await expect(badge).toBeVisible();
  await badge.scrollIntoViewIfNeeded();
  const [badgeBox] = await boxesOf([badge]);
  expect(withinWidth(badgeBox!, { x: 0, width: 390 }), `paused-keys badge ${JSON.stringify(badgeBox)} within the 390 px screen`).toBe(true);
  expect(await page.evaluate(() => document.documentElement.scrollWidth), "page width").toBeLessThanOrEqual(390);

  const cells = row.locator(":scope > th, :scope > td");
  await expect(cells).toHaveCount(7);
  const named = Object.fromEntries(
    ["topic", "messages", "rate", "sparkline", "last message", "subscriptions", "ordering"].map((name, i) => [name, cells.nth(i)]),
  );
  expect(await overlapping(named)).toEqual([]);
  const rowBox = (await row.boundingBox())!;
  const boxes = await boxesOf(Object.values(named));
  for (const [i, name] of Object.keys(named).entries()) expect(withinWidth(boxes[i]!, rowBox), `${name} within its row`).toBe(true);
});

test("live tail: rows of long types and keys do not overlap and keep the type visible", async ({ page, api }) => {
  const topic = uniqueName("e2e-mobile-live");
  await api.createTopic(topic, true);
  await signIn(page);
  await page.goto(`/topics/${encodeURIComponent(topic)}`);
  await expect(page.getByTestId("live-status")).toHaveText("live");
  for (let i = 0; i < 3; i++) {
    await api.publish(topic, cloudEvent({ id: eventId(`mobile-live-${i}`), type: LONG_TYPE, orderingkey: `customer-with-a-long-key-${i}` }));
  }
  const rows = page.getByTestId("live-message");
  await expect(rows).toHaveCount(3);
  expect(await page.evaluate(() => document.documentElement.scrollWidth), "page width").toBeLessThanOrEqual(390);

  for (let i = 0; i < 3; i++) {
    const row = rows.nth(i);
    const parts = {
      time: row.locator("time"),
      id: row.getByRole("link", { name: /mobile-live/ }),
      type: row.getByTestId("live-type"),
      key: row.getByText(/^key customer-with-a-long-key/),
    };
    expect(await overlapping(parts), `row ${i}`).toEqual([]);
    const rowBox = (await row.boundingBox())!;
    const boxes = await boxesOf(Object.values(parts));
    for (const [j, name] of Object.keys(parts).entries()) expect(withinWidth(boxes[j]!, rowBox), `${name} of row ${i} within the row`).toBe(true);
    // The type is shown, not squeezed away: at least the first 20 characters' worth of width.
    expect(boxes[2]!.width, "width of the type").toBeGreaterThan(120);
  }
});
