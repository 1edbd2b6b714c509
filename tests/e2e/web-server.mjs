#!/usr/bin/env node
/**
 * The web server of the browser tests (playwright.config.ts `webServer.command`). In order:
 *   1. drops and recreates the test schema (E2E_SCHEMA in DATABASE_URL) so every run starts empty;
 *   2. `npm run db:migrate` into that schema;
 *   3. `next build` into NEXT_DIST_DIR, only when a source file is newer than the last build's BUILD_ID;
 *   4. `next start` in the foreground (Playwright stops it by killing this process group).
 * Every step inherits the env Playwright passes (see tests/e2e/env.ts). Exits non-zero on the first failure.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { buildCore } from "../../scripts/build-core.mjs";
import { buildIsFresh } from "../../scripts/build-freshness.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const env = { ...process.env };
const distDir = env.NEXT_DIST_DIR ?? ".next-e2e";
const schema = env.E2E_SCHEMA;
const nextBin = path.join(root, "node_modules", ".bin", "next");

function log(message) {
  console.log(`[e2e web-server] ${message}`);
}

function run(command, args) {
  log(`$ ${command} ${args.join(" ")}`);
  const result = spawnSync(command, args, { cwd: root, env, stdio: "inherit" });
  if (result.status !== 0) {
    log(`${command} ${args.join(" ")} failed (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
}

async function resetSchema() {
  if (!schema || !/^e2e_[a-z0-9_]+$/.test(schema)) {
    throw new Error(`E2E_SCHEMA must look like e2e_<name> (got ${JSON.stringify(schema)}); refusing to drop it`);
  }
  const url = new URL(env.DATABASE_URL);
  url.searchParams.delete("schema");
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.query(`CREATE SCHEMA "${schema}"`);
  } finally {
    await client.end();
  }
  log(`schema ${schema} reset`);
}

function buildIfNeeded() {
  buildCore(root);
  if (buildIsFresh(root, distDir) && !env.E2E_FORCE_BUILD) {
    log(`${distDir} is up to date; skipping next build`);
    return;
  }
  run(nextBin, ["build"]);
}

await resetSchema();
run("npm", ["run", "--silent", "db:migrate"]);
buildIfNeeded();

log(`$ next start on ${env.HOSTNAME}:${env.PORT}`);
const server = spawn(nextBin, ["start", "-H", env.HOSTNAME ?? "127.0.0.1", "-p", env.PORT ?? "3000"], { cwd: root, env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.kill(signal));
server.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
stopWhenOrphaned();

/**
 * Playwright starts this script, through a shell. If Playwright is killed (a cancelled run), nobody would stop the
 * server and the next run would find its port taken: so the server is stopped once this script's parent or the
 * process that started that parent is gone (the latter read from /proc at start, where there is one).
 */
function stopWhenOrphaned() {
  const parent = process.ppid;
  let starter;
  try {
    starter = Number(readFileSync(`/proc/${parent}/stat`, "utf8").replace(/^.*\) /, "").split(" ")[1]);
  } catch {
    starter = undefined;
  }
  const alive = (pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  setInterval(() => {
    if (process.ppid === parent && (!starter || starter <= 1 || alive(starter))) return;
    log("the test runner that started this server is gone; stopping it");
    server.kill("SIGTERM");
  }, 2_000).unref();
}
