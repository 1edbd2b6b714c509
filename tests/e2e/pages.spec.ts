import type { Browser, Locator, Page } from "@playwright/test";
import { cloudEvent, eventId, expect, test, uniqueName, waitForRecorded, type Api } from "./fixtures";
import { E2E_BASE_URL, E2E_START_TOPICS, E2E_TOKEN } from "./env";
import { screenshotPath, watchHealth } from "./page-checks";

// Every page, in light and dark, on a desktop (1440×900) and a phone (390×844): it renders without a console
// error, an uncaught error or a failed request (a network failure or an answer >= 400; the not-found message
// page expects exactly its 404), and its screenshot is saved as test-results/screenshots/<page>-<theme>-<device>.png
// (the list is in docs/screenshots.md).

const DEVICES = { desktop: { width: 1440, height: 900 }, mobile: { width: 390, height: 844 } } as const;
const THEMES = ["light", "dark"] as const;
const MISSING_ID = "no-such-message-in-history";

interface PageCase {
  name: string;
  path: string;
  signedIn: boolean;
  /** Visible once the page shows its data (not a loading state). */
  ready: (page: Page) => Locator;
  /** Answers >= 400 this page is meant to get. */
  expected?: (url: URL, status: number) => boolean;
}

async function arrange(api: Api): Promise<{ messageId: string; topic: string }> {
  const topic = E2E_START_TOPICS[1]!;
  const messageId = eventId("pages");
  await api.publish(topic, cloudEvent({ id: messageId, orderingkey: "customer-pages", data: { order: 42, items: ["kettle", "mug"] } }));
  await waitForRecorded(api, messageId);
  // Something on the ordering board.
  const stalled = uniqueName("e2e-pages");
  await api.createTopic(stalled, true);
  await api.setFailing(stalled, true);
  await api.publish(stalled, cloudEvent({ id: eventId("pages-stall"), orderingkey: "customer-stalled" }));
  await api.setFailing(stalled, false);
  return { messageId, topic };
}

function cases(messageId: string, topic: string): PageCase[] {
  return [
    { name: "login", path: "/login", signedIn: false, ready: (p) => p.getByRole("heading", { name: "Sign in to whisper" }) },
    { name: "topics", path: "/", signedIn: true, ready: (p) => p.getByTestId("topic-row").first() },
    { name: "topic", path: `/topics/${topic}`, signedIn: true, ready: (p) => p.getByTestId("live-status").getByText("live") },
    {
      name: "topic-filtered",
      path: `/topics/${topic}?q=${encodeURIComponent("data.order = 42")}&range=1h&msg=${messageId}`,
      signedIn: true,
      ready: (p) => p.getByTestId("history-row-detail"),
    },
    { name: "search", path: `/search?q=${encodeURIComponent(`id = ${messageId}`)}`, signedIn: true, ready: (p) => p.getByTestId("history-row") },
    { name: "message", path: `/messages/${messageId}`, signedIn: true, ready: (p) => p.getByRole("heading", { name: /Message/ }) },
    {
      name: "message-not-found",
      path: `/messages/${MISSING_ID}`,
      signedIn: true,
      ready: (p) => p.getByText(`No message with id “${MISSING_ID}” in the history`),
      expected: (url, status) => status === 404 && url.pathname === `/api/messages/${MISSING_ID}`,
    },
    { name: "ordering", path: "/ordering", signedIn: true, ready: (p) => p.getByTestId("stall-card").first() },
    { name: "audit", path: "/audit", signedIn: true, ready: (p) => p.getByRole("heading", { name: "Audit log" }) },
  ];
}

async function visit(browser: Browser, theme: (typeof THEMES)[number], device: keyof typeof DEVICES, c: PageCase, configFile?: string) {
  const context = await browser.newContext({ viewport: DEVICES[device], colorScheme: theme, baseURL: E2E_BASE_URL });
  await context.addCookies([{ name: "whisper_theme", value: theme, url: E2E_BASE_URL }]);
  if (c.signedIn) expect((await context.request.post("/api/login", { data: { token: E2E_TOKEN } })).status()).toBe(204);
  const page = await context.newPage();
  const health = watchHealth(page, c.expected);
  await page.goto(c.path);
  await expect(c.ready(page)).toBeVisible();
  await expect(page.locator("html")).toHaveAttribute("data-theme", theme);
  // Checked before the full-page screenshot, which resizes the viewport (and so starts and cancels prefetches).
  const problems = health.stop();
  await page.screenshot({ path: screenshotPath(configFile, `${c.name}-${theme}-${device}`), fullPage: true });
  await context.close();
  expect(problems, `${c.name} (${theme}, ${device})`).toEqual([]);
}

for (const device of Object.keys(DEVICES) as (keyof typeof DEVICES)[]) {
  for (const theme of THEMES) {
    test(`every page renders cleanly: ${theme}, ${device}`, async ({ browser, api }, testInfo) => {
      test.setTimeout(120_000);
      const { messageId, topic } = await arrange(api);
      for (const c of cases(messageId, topic)) await visit(browser, theme, device, c, testInfo.config.configFile);
    });
  }
}
