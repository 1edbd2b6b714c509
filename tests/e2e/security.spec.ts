import http from "node:http";
import type { AddressInfo } from "node:net";
import { E2E_BASE_URL, E2E_VIEWER_TOKEN } from "./env";
import { cloudEvent, eventId, expect, signIn, test, uniqueName, waitForRecorded } from "./fixtures";

// Browser-level security: the pages satisfy their own CSP (no violation anywhere), nobody may frame the
// dashboard, a page on another loopback port cannot make changes with the operator's session (CSRF), and a
// viewer is shown no admin controls.

/** Collects CSP violations of a page: the DOM event (from an init script) and the console reports. */
async function watchCsp(page: import("@playwright/test").Page): Promise<() => Promise<string[]>> {
  const console: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to (execute|load|apply)/i.test(m.text())) console.push(m.text());
  });
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return async () => [...console, ...(await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []))];
}

test("every page renders under its CSP without a single violation", async ({ page, api }) => {
  const topic = uniqueName("e2e-csp");
  await api.createTopic(topic, true);
  const id = eventId("csp");
  await api.publish(topic, cloudEvent({ id }));
  await waitForRecorded(api, id);
  const violations = await watchCsp(page);

  const login = await page.goto("/login");
  expect(login?.headers()["content-security-policy"]).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/);
  expect(login?.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(login?.headers()["x-frame-options"]).toBe("DENY");
  expect(login?.headers()["x-content-type-options"]).toBe("nosniff");
  expect(login?.headers()["referrer-policy"]).toBe("same-origin");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();

  await signIn(page);
  const pages: Array<[string, RegExp]> = [
    ["/", /Topics|topics/],
    [`/topics/${encodeURIComponent(topic)}`, new RegExp(topic)],
    [`/messages/${encodeURIComponent(id)}`, new RegExp(id)],
    ["/ordering", /Ordering|stalled/i],
    ["/audit", /Audit log/],
  ];
  for (const [path, text] of pages) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(200);
    await expect(page.locator("main")).toContainText(text);
    // Hydrated (scripts ran under the CSP): the client fetched the session and shows the role.
    await expect(page.getByTestId("role")).toHaveText("admin");
    expect(await violations(), path).toEqual([]);
  }
  // A client-side navigation and the theme toggle (inline-style-free) keep it clean too.
  await page.getByRole("link", { name: "Ordering" }).click();
  await expect(page).toHaveURL(/\/ordering/);
  expect(await violations()).toEqual([]);
});

/** Serves `html` on a free 127.0.0.1 port: the "attacker" page, same site (loopback), another origin. */
async function attackerPage(html: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test("a page on another loopback port can neither replay with the operator's session nor frame the dashboard", async ({ page, api }) => {
  const topic = uniqueName("e2e-csrf");
  await api.createTopic(topic);
  const id = eventId("csrf");
  await api.publish(topic, cloudEvent({ id }));
  await waitForRecorded(api, id);
  await signIn(page);

  const replayUrl = `${E2E_BASE_URL}/api/messages/${encodeURIComponent(id)}/replay`;
  const attacker = await attackerPage(`<!doctype html><title>attacker</title>
    <iframe id="frame" src="${E2E_BASE_URL}/" width="600" height="400"></iframe>
    <form id="form" method="POST" action="${replayUrl}" enctype="text/plain" target="sink"><input name='{"keepId":false,"x":"' value='"}'></form>
    <iframe name="sink"></iframe>
    <script>
      window.results = [];
      fetch(${JSON.stringify(replayUrl)}, { method: "POST", mode: "no-cors", credentials: "include" })
        .then(() => window.results.push("no-cors sent"), (e) => window.results.push("no-cors failed " + e));
      fetch(${JSON.stringify(replayUrl)}, { method: "POST", mode: "no-cors", credentials: "include", headers: { "content-type": "text/plain" }, body: "{}" })
        .then(() => window.results.push("no-cors body sent"), (e) => window.results.push("no-cors body failed " + e));
      document.getElementById("form").submit();
    </script>`);
  try {
    // What the server answered the forged requests (Playwright sees even opaque no-cors responses).
    const answers: number[] = [];
    page.on("response", (r) => {
      if (r.url() === replayUrl) answers.push(r.status());
    });
    const blockedFrame = page.waitForEvent("console", (m) => /Refused to (display|frame)|frame-ancestors/i.test(m.text()));
    await page.goto(attacker.url);
    await expect.poll(() => page.evaluate(() => (window as unknown as { results: string[] }).results.length)).toBe(2);
    await blockedFrame;
    // The form's POST was refused for its origin: 403, not 401, so the session cookie was sent with it.
    // (The no-cors fetches' answers are not even readable by the browser: CORP same-origin blocks them.)
    await expect.poll(() => answers).toEqual([403]);
    // The framed dashboard never rendered: no frame holds its document.
    const framed = page.frames().filter((f) => f.url().startsWith(E2E_BASE_URL) && f.url() !== replayUrl);
    for (const frame of framed) expect(await frame.locator("main").count()).toBe(0);
    // Nothing was replayed: no audit entry, no message carrying replayof = the original.
    const audit = await api.request.get(`/api/audit?action=message.replay&target=${encodeURIComponent(id)}`);
    expect((await audit.json()).items).toEqual([]);
    const copies = await api.messages({ topic });
    expect(copies.items.filter((m) => m.replayOf === id)).toEqual([]);
  } finally {
    await attacker.close();
  }
  // The same session still works from the dashboard's own page (the refusal was about the origin).
  await page.goto(`/messages/${encodeURIComponent(id)}`);
  await page.getByRole("button", { name: "Replay…" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Replay", exact: true }).click();
  await expect(page.getByRole("dialog")).toContainText(/replay/i);
  await expect
    .poll(async () => (await (await api.request.get(`/api/audit?action=message.replay&target=${encodeURIComponent(id)}`)).json()).items.length)
    .toBe(1);
});

test("a viewer sees no admin controls, and can read the audit log", async ({ page, api }) => {
  const topic = uniqueName("e2e-viewer");
  await api.createTopic(topic, true);
  const id = eventId("viewer");
  await api.publish(topic, cloudEvent({ id }));
  await waitForRecorded(api, id);
  await api.setFailing(topic, true);
  await api.publish(topic, cloudEvent({ id: eventId("viewer-stall"), orderingkey: uniqueName("k") }));
  await api.setFailing(topic, false);

  await signIn(page, E2E_VIEWER_TOKEN);
  await page.goto(`/messages/${encodeURIComponent(id)}`);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(id);
  await expect(page.getByTestId("role")).toHaveText("viewer");
  await expect(page.getByRole("button", { name: "Replay…" })).toHaveCount(0);

  await page.goto(`/topics/${encodeURIComponent(topic)}`);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(topic);
  for (const name of ["Publish", "Delete topic", "Simulate failures"]) await expect(page.getByRole("button", { name })).toHaveCount(0);
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1, name: "Topics" })).toBeVisible();
  await expect(page.getByRole("button", { name: /demo traffic/i })).toHaveCount(0);
  await expect(page.getByText("Create a topic")).toHaveCount(0);

  await page.goto(`/ordering?topic=${encodeURIComponent(topic)}`);
  const card = page.getByTestId("stall-card").first();
  await expect(card).toContainText("Resume and discard need the admin role");
  await expect(card.getByRole("button", { name: "Resume" })).toHaveCount(0);

  await page.goto("/audit");
  await page.getByLabel("Target").fill(topic);
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByTestId("audit-row").filter({ hasText: "topic.create" })).toHaveCount(1);
  await expect(page.getByTestId("audit-row").filter({ hasText: "topic.failure" })).toHaveCount(2);
});
