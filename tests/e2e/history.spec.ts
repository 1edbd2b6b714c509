import { cloudEvent, eventId, expect, signIn, snap, test, uniqueName } from "./fixtures";

// The history list: keyset pages load as the page scrolls (the list is virtualized against the window), and the
// filter language narrows it.
test("history scrolls through keyset pages and filters", async ({ page, api }, testInfo) => {
  const topic = uniqueName("e2e-history");
  await api.createTopic(topic);
  const total = 120;
  const events = Array.from({ length: total }, (_, i) =>
    cloudEvent({ id: eventId(`h${i}`), type: i % 10 === 0 ? "com.example.e2e.rare" : "com.example.e2e.common", data: { n: i, word: i === 7 ? "needle" : "hay" } }),
  );
  const res = await api.request.post(`/api/topics/${encodeURIComponent(topic)}/events`, {
    headers: { "Content-Type": "application/cloudevents-batch+json" },
    data: JSON.stringify(events),
  });
  expect(res.status(), await res.text()).toBe(202);
  await expect.poll(async () => (await api.messages({ topic, limit: "200" })).items.length).toBe(total);

  await signIn(page);
  await page.goto(`/topics/${encodeURIComponent(topic)}`);
  const status = page.getByText(/messages? loaded/);
  await expect(status).toHaveText("50 messages loaded; scroll down to load more.");
  // Virtualized: far fewer rows in the DOM than loaded.
  expect(await page.getByTestId("history-row").count()).toBeLessThan(50);

  // Scrolling the page to the end loads the next pages until the last one.
  for (const loaded of [100, total]) {
    await page.evaluate(() => window.scrollTo({ top: document.body.scrollHeight }));
    await expect(status).toContainText(`${loaded} messages loaded`);
  }
  await expect(status).toHaveText(`${total} messages loaded; that is all.`);
  await snap(page, testInfo, "history-scrolled");

  // The filter applies on Enter: a prefix of the type, then text in the data, then nothing.
  const filter = page.getByRole("search", { name: "Filter history" }).getByLabel("Filter", { exact: true });
  await filter.fill("type = com.example.e2e.r*");
  await filter.press("Enter");
  await expect(status).toHaveText(`${total / 10} messages loaded; that is all.`);
  await filter.fill("needle");
  await filter.press("Enter");
  await expect(status).toHaveText("1 message loaded; that is all.");
  await expect(page.getByTestId("history-row")).toContainText(events[7].id);
  await filter.fill("data.n >= 118");
  await filter.press("Enter");
  await expect(status).toHaveText("2 messages loaded; that is all.");
  await filter.fill("no-such-text-anywhere");
  await filter.press("Enter");
  await expect(page.getByText("No message matches these filters")).toBeVisible();
  // Clearing the filter returns to the unfiltered rows as they were loaded (new ones would be announced).
  await page.getByRole("button", { name: "Clear filter" }).click();
  await expect(status).toHaveText(`${total} messages loaded; that is all.`);
  await expect(page.getByTestId("history-row").first()).toContainText(events[total - 1].id);
});
