import { cloudEvent, eventId, expect, signIn, snap, test, uniqueName, waitForRecorded } from "./fixtures";

// Issue 12, "Search by content": the filter language across every topic (/search), its help and its errors, and the
// same language in the live tail. (Every page, these views included, is checked for console errors and failed
// requests by pages.spec.ts.)

test("search across every topic with data fields and prefixes; the help and the errors", async ({ page, api }, testInfo) => {
  const prefix = uniqueName("e2e-search");
  const topics = [`${prefix}-a`, `${prefix}-b`];
  const hits: string[] = [];
  for (const [t, topic] of topics.entries()) {
    await api.createTopic(topic);
    for (let i = 0; i < 4; i++) {
      const id = eventId(`search-${t}-${i}`);
      await api.publish(topic, cloudEvent({ id, type: i % 2 ? "com.example.search.paid" : "com.example.search.created", data: { customer: i === 1 ? "c-77" : `c-${i}`, total: 10 * i } }));
      if (i === 1) hits.push(id);
      await waitForRecorded(api, id);
    }
  }
  await signIn(page);
  await page.goto("/");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Search" }).click();
  await expect(page).toHaveURL(/\/search$/);
  const filter = page.getByRole("search", { name: "Search every topic" }).getByLabel("Filter", { exact: true });
  await filter.fill(`topic = ${prefix}* data.customer = "c-77"`);
  await filter.press("Enter");
  const results = page.getByRole("table", { name: "Search results" }).getByTestId("history-row");
  await expect(results).toHaveCount(2);
  for (const [i, id] of hits.entries()) await expect(results.filter({ hasText: id })).toContainText(topics[i]!);
  await snap(page, testInfo, "search");

  // Narrower: one topic by prefix, a type prefix and a number.
  await filter.fill(`topic = ${prefix}-b* type = com.example.search.p* data.total >= 10`);
  await filter.press("Enter");
  await expect(results).toHaveCount(2);
  await expect(results.filter({ hasText: topics[0]! })).toHaveCount(0);

  // A mistake is shown where it is, before anything is asked of the server.
  await filter.fill("data.total > lots");
  await filter.press("Enter");
  await expect(page.getByRole("alert").filter({ hasText: "compares numbers" })).toHaveText(
    "> compares numbers: write a number such as 100 (at character 14)",
  );
  await expect(filter).toHaveAttribute("aria-invalid", "true");

  // The help lists the language; an example goes into the field.
  await page.getByRole("button", { name: "Filter help" }).click();
  const help = page.getByRole("region", { name: "Filter language" });
  await expect(help).toContainText("A value ending in * is a prefix");
  await help.getByRole("button", { name: "data.total > 100" }).click();
  await expect(help).toBeHidden();
  await expect(filter).toHaveValue("data.total > 100");
  await expect(filter).toBeFocused();
});

test("the live tail filters with the same language", async ({ page, api }) => {
  const topic = uniqueName("e2e-livefilter");
  await api.createTopic(topic);
  await signIn(page);
  await page.goto(`/topics/${encodeURIComponent(topic)}`);
  await expect(page.getByTestId("live-status")).toHaveText("live");
  const liveFilter = page.getByLabel("Filter live messages");
  await liveFilter.fill("data.total > 100 type = com.example.*");
  const small = eventId("live-small");
  const big = eventId("live-big");
  const other = eventId("live-other");
  await api.publish(topic, cloudEvent({ id: small, data: { total: 50 } }));
  await api.publish(topic, cloudEvent({ id: big, data: { total: 150 } }));
  await api.publish(topic, cloudEvent({ id: other, type: "org.other.big", data: { total: 500 } }));
  const live = page.getByTestId("live-message");
  await expect(live.filter({ hasText: big })).toBeVisible();
  await expect(live).toHaveCount(1);
  await liveFilter.fill("");
  await expect(live).toHaveCount(3);
  await liveFilter.fill("type > x");
  await expect(page.getByRole("alert").filter({ hasText: "Filter: type takes = or !=" })).toBeVisible();
});
