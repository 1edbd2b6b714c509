import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import pg from "pg";
import type { TopicSummary } from "../../components/api/types";
import { expect, test } from "./fixtures";
import { E2E_DATABASE_URL, E2E_PORT, E2E_SCHEMA, E2E_TOKEN, serverEnv } from "./env";

// Not a behaviour test: the README's picture (docs/screenshot-dashboard.png) of the topics page showing the
// demo traffic, as a new user sees it after pressing "Start demo traffic". The other specs fill the server
// under test with their own topics, so this one starts a second dashboard from the same build, on its own port
// and its own empty schema (no WHISPER_TOPICS), starts the demo through the API, waits until every demo topic
// has a complete minute of traffic and the inventory topic has stalled a key, then saves the screenshot.

const PORT = E2E_PORT + 1;
const BASE = `http://127.0.0.1:${PORT}`;
const SCHEMA = `${E2E_SCHEMA}_readme`;
const DEMO_TOPICS = ["demo.orders", "demo.payments", "demo.clicks", "demo.inventory"];

function databaseUrl(): string {
  const url = new URL(E2E_DATABASE_URL);
  url.searchParams.set("schema", SCHEMA);
  return url.toString();
}

async function dropSchema(): Promise<void> {
  const url = new URL(E2E_DATABASE_URL);
  url.searchParams.delete("schema");
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** The web server script of the browser tests (reset schema, migrate, reuse the build, next start) on PORT. */
function startServer(root: string): ChildProcess {
  const { WHISPER_TOPICS: _none, ...env } = serverEnv();
  const child = spawn(process.execPath, [path.join(root, "tests", "e2e", "web-server.mjs")], {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(PORT), E2E_SCHEMA: SCHEMA, DATABASE_URL: databaseUrl() },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  await exited;
}

test("README screenshot: the topics page with the demo traffic", async ({ page, playwright }, testInfo) => {
  test.setTimeout(240_000);
  const root = path.dirname(testInfo.config.configFile ?? ".");
  const server = startServer(root);
  const api = await playwright.request.newContext({ baseURL: BASE, extraHTTPHeaders: { Authorization: `Bearer ${E2E_TOKEN}` } });
  try {
    await expect
      .poll(async () => (await api.get("/api/health").catch(() => null))?.status() ?? 0, { message: "the second dashboard up", timeout: 120_000 })
      .toBe(200);
    expect((await api.post("/api/demo", { data: { running: true } })).status()).toBe(200);

    // Every demo topic has traffic in a complete minute (the sparklines show it) and a key of the inventory
    // topic stalled (its "paused key" badge shows): about one to two minutes after the start.
    await expect
      .poll(
        async () => {
          const { topics } = (await (await api.get("/api/topics")).json()) as { topics: TopicSummary[] };
          const demo = topics.filter((t) => DEMO_TOPICS.includes(t.name));
          const flowing = demo.filter((t) => t.sparkline.slice(0, -1).some((n) => n > 0)).length;
          const paused = demo.find((t) => t.name === "demo.inventory")?.pausedKeys ?? 0;
          return { topics: topics.map((t) => t.name).sort(), flowing, stalled: paused > 0 };
        },
        { message: "demo traffic over a complete minute and a stalled key", timeout: 150_000, intervals: [2_000] },
      )
      .toEqual({ topics: [...DEMO_TOPICS].sort(), flowing: DEMO_TOPICS.length, stalled: true });

    const context = page.context();
    const login = await context.request.post(`${BASE}/api/login`, { data: { token: E2E_TOKEN } });
    expect(login.status()).toBe(204);
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${BASE}/`);
    await expect(page.getByTestId("topic-row")).toHaveCount(DEMO_TOPICS.length);
    await expect(page.getByRole("link", { name: /paused ordering key/ })).toBeVisible();
    const file = path.join(root, "docs", "screenshot-dashboard.png");
    await page.screenshot({ path: file });
    await testInfo.attach("screenshot-dashboard", { path: file, contentType: "image/png" });
  } finally {
    await api.dispose();
    await stopServer(server);
    await dropSchema();
  }
});
