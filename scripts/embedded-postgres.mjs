#!/usr/bin/env node
/**
 * The embedded PostgreSQL of the zero-setup dashboard: PGlite on a data directory, served over the Postgres
 * wire protocol on 127.0.0.1 so Prisma, its migrations and `pg` use it exactly like a real server.
 *
 *   node scripts/embedded-postgres.mjs <data dir> [port]      (port 0 or absent = a free one)
 *
 * Contract:
 * - creates the data directory's parent folders (PGlite does not);
 * - holds `<data dir>.lock` (our pid) while running, so a second process never opens the same directory
 *   (two PGlite instances on one directory corrupt it); a lock left by a dead process is taken over;
 * - when ready, prints one line `{"ready":true,"port":N,"url":"postgresql://…"}` and, if started with an IPC
 *   channel (fork), sends the same object as a message;
 * - stops cleanly (socket server, database, lock) on SIGINT/SIGTERM or when the parent disconnects.
 * One PGlite is one Postgres session. The socket server multiplexes connections onto it and runs one query at
 * a time; while a connection is inside a transaction only that connection's queries run, so transactions stay
 * isolated. Session state (advisory locks, SET) is shared between connections.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

/** Above the app's pool (10) plus the migration CLI and a psql session. */
const MAX_CONNECTIONS = 20;
const [dirArg, portArg] = process.argv.slice(2);
if (!dirArg) {
  console.error("usage: embedded-postgres.mjs <data dir> [port]");
  process.exit(2);
}
const dataDir = path.resolve(dirArg);
const lockFile = `${dataDir}.lock`;

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

takeLock();
let stopping = false;
let db;
let server;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  try {
    await server?.stop();
    await db?.close();
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
  db = await PGlite.create(dataDir);
  server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: Number(portArg ?? 0), maxConnections: MAX_CONNECTIONS });
  await server.start();
  const address = server.server?.address?.() ?? undefined;
  const port = typeof address === "object" && address ? address.port : Number(portArg);
  const ready = {
    ready: true,
    port,
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    dataDir,
    openedInMs: Date.now() - started,
  };
  console.log(JSON.stringify(ready));
  process.send?.(ready);
} catch (error) {
  console.error(`embedded database ${dataDir} failed to start: ${error?.stack ?? error}`);
  await stop(1);
}
