import { defineConfig, devices } from "@playwright/test";
import { E2E_BASE_URL, serverEnv } from "./tests/e2e/env";

// Browser tests of the dashboard against a production build (`next build` + `next start`), with Debian's
// chromium. The web server (tests/e2e/web-server.mjs) resets the e2e Postgres schema, migrates it, builds
// into .next-e2e when sources changed, and starts Next on a fixed port with the in-process bus.

export default defineConfig({
  testDir: "tests/e2e",
  outputDir: "test-results/e2e",
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  // `npm test` sets PLAYWRIGHT_JSON_OUTPUT_NAME to collect the counts for its summary line.
  reporter: [
    ["list"],
    ...(process.env.CI ? [["html", { open: "never", outputFolder: "playwright-report" }] as const] : []),
    ...(process.env.PLAYWRIGHT_JSON_OUTPUT_NAME ? [["json"] as const] : []),
  ],
  use: {
    baseURL: E2E_BASE_URL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    viewport: { width: 1280, height: 900 },
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        viewport: { width: 1280, height: 900 },
        launchOptions: {
          executablePath: "/usr/bin/chromium",
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
          ],
        },
      },
    },
  ],
  webServer: {
    command: "node tests/e2e/web-server.mjs",
    url: `${E2E_BASE_URL}/api/health`,
    env: serverEnv(),
    reuseExistingServer: false,
    timeout: 240_000,
    stdout: "pipe",
    stderr: "pipe",
    gracefulShutdown: { signal: "SIGTERM", timeout: 5_000 },
  },
});
