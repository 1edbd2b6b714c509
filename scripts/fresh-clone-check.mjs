#!/usr/bin/env node
/**
 * The first-run path, checked as a new user meets it (a CI step, see .ci/run):
 *   git clone (this repository's HEAD) into a temp dir → npm ci → npm start with nothing configured
 *   (no DATABASE_URL, no WHISPER_BUS) → /api/health, the topics page and the topics API answer.
 * Prints each step and exits non-zero with the reason if any step fails. Cleans up after itself.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./free-port.mjs";

const repo = path.resolve(import.meta.dirname, "..");
const work = mkdtempSync(path.join(tmpdir(), "whisper-fresh-clone-"));
const clone = path.join(work, "whisper");
let server;

function step(text) {
  console.log(`[fresh-clone] ${text}`);
}

function cleanup() {
  if (server?.pid) {
    try {
      process.kill(-server.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
}


async function expectOk(url, init, what) {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`${what}: ${url} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  step(`${what}: ${response.status}`);
  return response;
}

try {
  step(`cloning ${repo} into ${clone}`);
  execFileSync("git", ["clone", "--quiet", repo, clone], { stdio: "inherit" });
  step("npm ci");
  const started = Date.now();
  execFileSync("npm", ["ci", "--no-audit", "--no-fund"], {
    cwd: clone,
    stdio: "inherit",
    env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: "1" },
  });
  step(`npm ci took ${Math.round((Date.now() - started) / 1000)} s`);

  const port = await freePort();
  const env = { ...process.env, PORT: String(port), NEXT_TELEMETRY_DISABLED: "1" };
  for (const name of ["DATABASE_URL", "WHISPER_BUS", "WHISPER_ADMIN_TOKEN", "WHISPER_TOPICS", "WHISPER_DATA_DIR", "NEXT_DIST_DIR"]) {
    delete env[name];
  }
  step(`npm start on port ${port} with nothing configured`);
  let output = "";
  server = spawn("npm", ["start"], { cwd: clone, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  server.stdout.on("data", (chunk) => {
    output += chunk;
    process.stdout.write(chunk);
  });
  server.stderr.on("data", (chunk) => {
    output += chunk;
    process.stderr.write(chunk);
  });
  const deadline = Date.now() + 600_000;
  while (!/whisper dashboard\s+http/.test(output)) {
    if (server.exitCode !== null) throw new Error(`npm start exited with ${server.exitCode} before it was ready`);
    if (Date.now() > deadline) throw new Error("npm start was not ready within 10 minutes");
    await new Promise((r) => setTimeout(r, 500));
  }
  if (!/embedded PostgreSQL \d+/.test(output)) throw new Error("the start banner does not name the embedded database");

  const base = `http://127.0.0.1:${port}`;
  const health = await (await expectOk(`${base}/api/health`, {}, "GET /api/health")).json();
  if (health.status !== "ok") throw new Error(`health says ${JSON.stringify(health)}`);
  const page = await (await expectOk(`${base}/`, {}, "GET / (topics page)")).text();
  if (!page.includes("whisper")) throw new Error("the topics page does not look like the dashboard");
  const token = readFileSync(path.join(clone, ".whisper", "admin-token"), "utf8").trim();
  await expectOk(`${base}/api/topics`, { headers: { authorization: `Bearer ${token}` } }, "GET /api/topics");
  step("the first-run path works");
  cleanup();
  await new Promise((r) => setTimeout(r, 3000));
  rmSync(work, { recursive: true, force: true });
} catch (error) {
  console.error(`[fresh-clone] FAILED: ${error?.message ?? error}`);
  cleanup();
  process.exitCode = 1;
}
