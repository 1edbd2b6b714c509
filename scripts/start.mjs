#!/usr/bin/env node
/**
 * `npm start`: the dashboard on embedded defaults, or on real services when the environment names them.
 * 1. builds the app if there is no build or the sources are newer than it;
 * 2. with no DATABASE_URL, starts the embedded PostgreSQL (PGlite, scripts/embedded-postgres.mjs) on the data
 *    directory WHISPER_DATA_DIR (default ./.whisper);
 * 3. applies the Prisma migrations (the same ones a real database gets);
 * 4. starts `next start`; with no WHISPER_ADMIN_TOKEN it makes one (kept in the data directory, so a restart
 *    keeps your login) and listens on 127.0.0.1 only;
 * 5. prints the URL, the token and what it is running on once /api/health answers.
 * Ctrl-C stops everything it started.
 */
import { fork, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
const dataDir = path.resolve(root, env.WHISPER_DATA_DIR ?? ".whisper");
const distDir = env.NEXT_DIST_DIR ?? ".next";
const children = new Set();

function log(line) {
  console.log(`[whisper] ${line}`);
}

function fail(message) {
  console.error(`[whisper] ${message}`);
  shutdown(1);
}

/** The newest modification time under the given paths (files or folders). */
function newestMtime(paths) {
  let newest = 0;
  const visit = (p) => {
    if (!existsSync(p)) return;
    const stat = statSync(p);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(p)) if (entry !== "node_modules" && !entry.startsWith(".")) visit(path.join(p, entry));
    } else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const p of paths) visit(path.join(root, p));
  return newest;
}

function buildIfNeeded() {
  const buildId = path.join(root, distDir, "BUILD_ID");
  const sources = ["app", "components", "server", "prisma/schema.prisma", "next.config.ts", "package-lock.json", "instrumentation.ts"];
  if (existsSync(buildId) && statSync(buildId).mtimeMs >= newestMtime(sources)) return;
  log(existsSync(buildId) ? "sources changed since the last build: building…" : "first start: building the dashboard (about a minute)…");
  const started = Date.now();
  const result = spawnSync(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "build"], {
    cwd: root,
    env,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (result.status !== 0) fail("the build failed (see above)");
  log(`built in ${Math.round((Date.now() - started) / 1000)} s`);
}

function startEmbeddedPostgres() {
  return new Promise((resolve, reject) => {
    const pgdata = path.join(dataDir, "pgdata");
    log(`no DATABASE_URL: starting the embedded PostgreSQL (PGlite) in ${path.relative(root, pgdata) || pgdata}`);
    const child = fork(path.join(root, "scripts/embedded-postgres.mjs"), [pgdata], { cwd: root, stdio: ["ignore", "ignore", "inherit", "ipc"] });
    children.add(child);
    child.once("message", (ready) => resolve(ready));
    child.once("exit", (code) => reject(new Error(`the embedded PostgreSQL exited (code ${code})`)));
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
    fail("applying the database migrations failed (see above); is DATABASE_URL right and the database reachable?");
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

let exiting = false;
function shutdown(code) {
  if (exiting) return;
  exiting = true;
  for (const child of children) child.kill("SIGTERM");
  setTimeout(() => process.exit(code), children.size > 0 ? 3000 : 0).unref();
  if (children.size === 0) process.exit(code);
  let left = children.size;
  for (const child of children) {
    if (child.exitCode !== null) left--;
    else child.once("exit", () => --left === 0 && process.exit(code));
  }
  if (left === 0) process.exit(code);
}
process.on("SIGINT", () => shutdown(0));
process.on("SIGTERM", () => shutdown(0));

buildIfNeeded();
let database = "PostgreSQL from DATABASE_URL";
if (!env.DATABASE_URL) {
  const ready = await startEmbeddedPostgres().catch((error) => fail(error.message));
  env.DATABASE_URL = ready.url;
  env.WHISPER_DB_POOL_MAX = "1"; // one PGlite = one session: one connection at a time
  database = `embedded PostgreSQL (PGlite), data in ${path.relative(root, ready.dataDir) || ready.dataDir}`;
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
children.add(next);
next.once("exit", (code) => {
  children.delete(next);
  if (!exiting) fail(`the dashboard server exited (code ${code})`);
});

const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
if (await waitForHealth(url, next)) {
  const bus = env.WHISPER_BUS || "eventbus: (the in-process bus)";
  console.log(`
  whisper dashboard  ${url}
  admin token        ${token}${generated ? "   (generated; listening on 127.0.0.1 only)" : ""}
  message bus        ${bus}
  database           ${database}
`);
} else if (!exiting) {
  fail(`the dashboard did not answer on ${url}/api/health`);
}
