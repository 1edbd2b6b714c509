import type { Page } from "@playwright/test";
import { cloudEvent, eventId, expect, signIn, snap, test, uniqueName, waitForRecorded } from "./fixtures";

// Issue 12, "Search by content": the filter language across every topic (/search), its help and its errors, the
// same language in the live tail, and every page free of console errors and failed requests.

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

/**
 * A prefetch Next cut short on purpose: its router reads a prefetch answer up to a byte limit and then cancels the
 * body (next/dist/client/components/segment-cache/cache.js, bufferPrefetchResponseBody), which Chromium reports as
 * net::ERR_ABORTED. The answer itself arrived (200); nothing failed.
 */
async function truncatedPrefetch(r: import("@playwright/test").Request): Promise<boolean> {
  const headers = r.headers();
  const prefetch = headers["next-router-prefetch"] !== undefined || headers["next-router-segment-prefetch"] !== undefined;
  return prefetch && r.failure()?.errorText === "net::ERR_ABORTED" && (await r.response())?.status() === 200;
}

/** Console errors and failed requests (network failures and 4xx/5xx answers) of a page while `visit` runs. */
async function watched(page: Page, visit: () => Promise<void>): Promise<string[]> {
  const problems: string[] = [];
  const pending: Promise<void>[] = [];
  const onConsole = (m: import("@playwright/test").ConsoleMessage) => {
    if (m.type() === "error") problems.push(`console: ${m.text()} (${m.location().url})`);
  };
  const onPageError = (e: Error) => problems.push(`page error: ${e.message}`);
  const onFailed = (r: import("@playwright/test").Request) => {
    pending.push(
      truncatedPrefetch(r).then((truncated) => {
        if (!truncated) problems.push(`failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
      }),
    );
  };
  const onResponse = (r: import("@playwright/test").Response) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  };
  page.on("console", onConsole);
  page.on("pageerror", onPageError);
  page.on("requestfailed", onFailed);
  page.on("response", onResponse);
  try {
    await visit();
    await Promise.all(pending);
  } finally {
    page.off("console", onConsole);
    page.off("pageerror", onPageError);
    page.off("requestfailed", onFailed);
    page.off("response", onResponse);
  }
  return problems;
}

test("every page: no console error and no failed request", async ({ browser, api }) => {
  const topic = uniqueName("e2e-clean");
  await api.createTopic(topic);
  const id = eventId("clean");
  await api.publish(topic, cloudEvent({ id, data: { customer: "c-1" } }));
  await waitForRecorded(api, id);
  const context = await browser.newContext();
  const page = await context.newPage();
  const pages: Array<[string, (p: Page) => Promise<void>]> = [
    ["/login", (p) => expect(p.getByRole("button", { name: "Sign in" })).toBeVisible()],
  ];
  const signedIn: Array<[string, (p: Page) => Promise<void>]> = [
    ["/", (p) => expect(p.getByRole("link", { name: topic, exact: true })).toBeVisible()],
    [`/topics/${encodeURIComponent(topic)}`, (p) => expect(p.getByTestId("history-row")).toHaveCount(1)],
    [`/topics/${encodeURIComponent(topic)}?q=${encodeURIComponent("data.customer = c-1")}&range=1h&msg=${encodeURIComponent(id)}`, (p) => expect(p.getByTestId("history-row-detail")).toBeVisible()],
    [`/search?q=${encodeURIComponent(`id = ${id}`)}`, (p) => expect(p.getByTestId("history-row")).toHaveCount(1)],
    [`/messages/${encodeURIComponent(id)}`, (p) => expect(p.getByRole("heading", { level: 1 })).toContainText(id)],
    ["/ordering", (p) => expect(p.locator("main")).toContainText(/Ordering|stalled/i)],
    ["/audit", (p) => expect(p.locator("main")).toContainText("Audit log")],
  ];
  const problems: Record<string, string[]> = {};
  // Between pages the browser sits on about:blank, so a stream or prefetch that leaving a page cancels is not
  // counted against the next one.
  for (const [path, ready] of pages) {
    problems[path] = await watched(page, async () => {
      await page.goto(path);
      await ready(page);
    });
    await page.goto("about:blank");
  }
  await signIn(page);
  for (const [path, ready] of signedIn) {
    problems[path] = await watched(page, async () => {
      await page.goto(path);
      await ready(page);
      // Hydrated, the session read: the page made its requests.
      await expect(page.getByTestId("role")).toHaveText("admin");
    });
    await page.goto("about:blank");
  }
  await context.close();
  expect(Object.fromEntries(Object.entries(problems).filter(([, list]) => list.length > 0))).toEqual({});
});
