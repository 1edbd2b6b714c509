import { cloudEvent, eventId, expect, signIn, snap, test, uniqueName } from "./fixtures";

// The history table: keyset pages load as the (virtualized) table scrolls, and the filters narrow it.
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
  const table = page.getByRole("table", { name: "Message history" });
  // Virtualized: far fewer rows in the DOM than loaded.
  expect(await page.getByTestId("history-row").count()).toBeLessThan(50);

  // Scrolling to the end loads the next pages until the last one.
  for (const loaded of [100, total]) {
    await table.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    await expect(status).toContainText(`${loaded} messages loaded`);
  }
  await expect(status).toHaveText(`${total} messages loaded; that is all.`);
  await snap(page, testInfo, "history-scrolled");

  // Filters apply on submit.
  const filters = page.getByRole("form", { name: "History filters" });
  await filters.getByLabel("Type", { exact: true }).fill("com.example.e2e.rare");
  await filters.getByRole("button", { name: "Apply" }).click();
  await expect(status).toHaveText(`${total / 10} messages loaded; that is all.`);
  await filters.getByRole("button", { name: "Reset" }).click();
  await filters.getByLabel("Text in data").fill("needle");
  await filters.getByRole("button", { name: "Apply" }).click();
  await expect(status).toHaveText("1 message loaded; that is all.");
  await expect(page.getByTestId("history-row")).toContainText(events[7].id);
  await filters.getByLabel("Text in data").fill("no-such-text-anywhere");
  await filters.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByText("No message matches these filters")).toBeVisible();
});
