import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { closeDb, createPool } from "@/server/db";
import { freePort } from "./net";

/**
 * Postgres for the history tests.
 * - createTestSchema(): a fresh schema in the shared server (WHISPER_TEST_POSTGRES, default the `test`
 *   database on 127.0.0.1:5432), migrated with `prisma migrate deploy`; drop() removes it.
 * - startPostgres(): a private server (initdb into a temp dir, a free port) that a test may stop and start:
 *   stop() signals the postmaster by PID and waits for it to exit. Never touches the shared server.
 */

export const ROOT = path.resolve(import.meta.dirname, "..", "..");
export const SHARED_POSTGRES = process.env.WHISPER_TEST_POSTGRES ?? "postgresql://postgres@127.0.0.1:5432/test";
const PG_BIN = process.env.WHISPER_PG_BIN ?? "/usr/lib/postgresql/15/bin";
const run = promisify(execFile);

/** Runs `prisma migrate deploy` into the database/schema of `url`; rejects with the CLI output on failure. */
export async function migrate(url: string): Promise<void> {
  try {
    await run(process.execPath, [path.join(ROOT, "scripts", "prisma-cli.mjs"), "migrate", "deploy"], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: url },
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`prisma migrate deploy failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}

/** `base` with `?schema=<schema>` set. */
export function withSchema(base: string, schema: string): string {
  const url = new URL(base);
  url.searchParams.set("schema", schema);
  return url.href;
}

export interface TestSchema {
  /** DATABASE_URL for the schema (`?schema=…`). */
  readonly url: string;
  readonly schema: string;
  drop(): Promise<void>;
}

/**
 * A new migrated schema named `[WHISPER_TEST_SCHEMA_PREFIX]<prefix>_<random>` on the shared server (the
 * optional prefix keeps the schemas of one person's runs apart on a server shared with others).
 */
export async function createTestSchema(prefix: string, base = SHARED_POSTGRES): Promise<TestSchema> {
  const schema = `${process.env.WHISPER_TEST_SCHEMA_PREFIX ?? ""}${prefix}_${randomBytes(4).toString("hex")}`;
  const url = withSchema(base, schema);
  await migrate(url);
  return { url, schema, drop: () => dropSchema(schema, base) };
}

/** Drops `schema` (and everything in it) on the server of `base`, if it exists. */
export async function dropSchema(schema: string, base = SHARED_POSTGRES): Promise<void> {
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * The database of a history test file: before all, a migrated schema (createTestSchema), DATABASE_URL pointing
 * at it for the services, and a pool of `max` connections; after all, the pool and the services' client are
 * closed and the schema dropped. Read the fields inside tests or hooks registered after this call.
 */
export function historyDatabase(prefix: string, { max = 4 }: { max?: number } = {}): { readonly pool: pg.Pool; readonly schema: TestSchema } {
  let schema: TestSchema | undefined;
  let pool: pg.Pool | undefined;
  beforeAll(async () => {
    schema = await createTestSchema(prefix);
    process.env.DATABASE_URL = schema.url;
    pool = createPool(schema.url, { max });
  });
  afterAll(async () => {
    await pool?.end();
    await closeDb();
    await schema?.drop();
  });
  return {
    get pool() {
      return pool!;
    },
    get schema() {
      return schema!;
    },
  };
}

export interface PrivatePostgres {
  /** postgresql://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  readonly port: number;
  /** The postmaster's PID while running, else undefined. */
  pid(): number | undefined;
  start(): Promise<void>;
  /** Fast shutdown (SIGINT) of the postmaster by PID; resolves once it exited. */
  stop(): Promise<void>;
  /** stop() then delete the data directory. */
  destroy(): Promise<void>;
}

/** Runs a Postgres binary as the `postgres` OS user when we are root (initdb refuses to run as root). */
function asPostgres(binary: string, args: string[]): [string, string[]] {
  const full = path.join(PG_BIN, binary);
  return process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", full, ...args]] : [full, args];
}

/** initdb + start a private server on a free port (trust auth, fsync off: it is a throwaway). */
export async function startPostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "whisper-pg-"));
  const data = path.join(dir, "data");
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
  }
  const [initCmd, initArgs] = asPostgres("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]);
  await run(initCmd, initArgs);
  const port = await freePort();
  let pid: number | undefined;

  const start = async () => {
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off`;
    const [cmd, args] = asPostgres("pg_ctl", ["-D", data, "-o", options, "-l", path.join(dir, "server.log"), "-w", "start"]);
    await run(cmd, args);
    pid = Number(readFileSync(path.join(data, "postmaster.pid"), "utf8").split("\n", 1)[0]);
  };

  const stop = async () => {
    if (pid === undefined) return;
    const target = pid;
    pid = undefined;
    try {
      process.kill(target, "SIGINT");
    } catch {
      return; // already gone
    }
    while (alive(target)) await new Promise((r) => setTimeout(r, 50));
  };

  await start();
  // If the test process dies without destroy(), do not leave a server behind (immediate shutdown).
  const onExit = () => {
    if (pid !== undefined) {
      try {
        process.kill(pid, "SIGQUIT");
      } catch {
        // already gone
      }
    }
  };
  process.once("exit", onExit);
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    pid: () => pid,
    start,
    stop,
    async destroy() {
      process.removeListener("exit", onExit);
      await stop();
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` until it returns true (no time is asserted; the test timeout bounds the wait). */
export async function until(check: () => boolean | Promise<boolean>, everyMs = 50): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, everyMs));
}

/** `pool` with its connect() replaced by `connect(original)`; everything else passes through. */
export function withConnect(pool: pg.Pool, connect: (original: () => Promise<pg.PoolClient>) => Promise<pg.PoolClient>): pg.Pool {
  return new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop === "connect") return () => connect(() => target.connect());
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** `pool` whose connections wait until release() is called: a database that does not answer. */
export function gatedPool(pool: pg.Pool): { pool: pg.Pool; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return { pool: withConnect(pool, async (connect) => (await gate, connect())), release };
}
