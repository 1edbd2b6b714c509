import { cloudEvent, eventId, expect, expectInHistory, signIn, test, uniqueName } from "./fixtures";

// The small things that looked broken (issue #12), each checked where a user would see it.

test("the login page shows no menu, role or Sign out, and asks the API nothing", async ({ page }) => {
  const apiCalls: string[] = [];
  page.on("request", (request) => {
    if (new URL(request.url()).pathname.startsWith("/api/")) apiCalls.push(request.url());
  });
  await page.goto("/login");
  await expect(page.getByRole("heading", { name: "Sign in to whisper" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Sign out" })).toHaveCount(0);
  await expect(page.getByTestId("role")).toHaveCount(0);
  await expect(page.getByRole("group", { name: "Colour theme" })).toBeVisible();
  expect(apiCalls).toEqual([]);
});

test("every page links an icon that is served", async ({ page }) => {
  await page.goto("/login");
  const href = await page.locator('head link[rel="icon"]').first().getAttribute("href");
  expect(href, "<link rel=icon>").toBeTruthy();
  const icon = await page.request.get(href!);
  expect(icon.status()).toBe(200);
  expect(icon.headers()["content-type"]).toContain("image/svg+xml");
});

test("an unknown message id shows not-found at the first answer, not after the retries", async ({ page }) => {
  await signIn(page);
  const id = uniqueName("never-recorded");
  // Only the first request gets an answer; the retries (for a message just published) are held, so the page
  // must say not-found from that one answer.
  let requests = 0;
  await page.route(`**/api/messages/${id}`, async (route) => {
    requests++;
    if (requests === 1) await route.continue();
  });
  await page.goto(`/messages/${id}`);
  await expect(page.getByText(`No message with id “${id}” in the history`)).toBeVisible();
  await expect(page.getByText("Loading message…")).toHaveCount(0);
  expect(requests).toBeGreaterThanOrEqual(1);
});

test("a busy topic's live tail makes no prefetch requests", async ({ page, api }) => {
  const topic = uniqueName("e2e-busy");
  await api.createTopic(topic);
  await signIn(page);
  const rsc: string[] = [];
  page.on("request", (request) => {
    if (new URL(request.url()).searchParams.has("_rsc")) rsc.push(request.url());
  });
  await page.goto(`/topics/${encodeURIComponent(topic)}`);
  await expect(page.getByTestId("live-status")).toHaveText("live");
  const events = Array.from({ length: 40 }, () => cloudEvent({ id: eventId("busy") }));
  const res = await api.request.post(`/api/topics/${encodeURIComponent(topic)}/events`, {
    headers: { "Content-Type": "application/cloudevents-batch+json" },
    data: JSON.stringify(events),
  });
  expect(res.status()).toBe(202);
  await expect(page.getByTestId("live-message")).toHaveCount(40);
  // The history (empty when the page opened, so it fills itself; later rows are announced and shown on demand)
  // links the same messages.
  await expectInHistory(page, () => expect(page.getByRole("link", { name: events[39]!.id, exact: true })).toHaveCount(2, { timeout: 1_000 }));
  expect(rsc, "RSC (prefetch) requests while 40 message links appeared").toEqual([]);
});

test("the publish form clears the last outcome when a new attempt fails", async ({ page }) => {
  await signIn(page);
  await page.goto("/topics/e2e-demo");
  await page.getByRole("tab", { name: "Publish" }).click();
  const form = page.getByRole("form", { name: "Publish test event" });
  await form.getByRole("button", { name: "Publish" }).click();
  const results = form.getByRole("list", { name: "Publish results" });
  await expect(results).toContainText("published");
  await form.getByLabel("Data").fill("{ not json");
  await form.getByRole("button", { name: "Publish" }).click();
  await expect(form.getByRole("alert")).toBeVisible();
  await expect(results).toHaveCount(0);
});

test("the topics table keeps its columns when badges appear", async ({ page, api }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  const topic = uniqueName("e2e-columns");
  await api.createTopic(topic, true);
  await signIn(page);
  await page.goto("/");
  const headers = page.locator("thead th");
  await expect(headers).toHaveCount(7);
  const before = await headers.evaluateAll((ths) => ths.map((th) => Math.round(th.getBoundingClientRect().left)));

  await api.setFailing(topic, true);
  await api.publish(topic, cloudEvent({ id: eventId("columns"), orderingkey: "k" }));
  const row = page.getByTestId("topic-row").filter({ has: page.getByRole("link", { name: topic, exact: true }) });
  await expect(row.getByText("failing on purpose")).toBeVisible();
  await expect(row.getByRole("link", { name: /paused ordering key/ })).toBeVisible();
  const after = await headers.evaluateAll((ths) => ths.map((th) => Math.round(th.getBoundingClientRect().left)));
  await api.setFailing(topic, false);
  expect(after, "left edges of the columns").toEqual(before);
});
