import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { connectionSettings } from "@/prisma/connection";
import { PrismaClient } from "./generated/prisma/client";

/**
 * The database handles of one process: a Prisma client for admin queries and a node-postgres pool for raw
 * SQL (the recorder's COPY path, keyset browsing). Both use the same pool, so one process opens at most
 * `max` connections, and both see the schema named by DATABASE_URL's `?schema=`.
 */
export interface Database {
  readonly prisma: PrismaClient;
  readonly pool: pg.Pool;
  /** The Postgres schema holding the tables ("public" unless the URL says otherwise). */
  readonly schema: string;
  /** Disconnects Prisma and ends the pool. Idempotent. */
  close(): Promise<void>;
}

export interface PoolOptions {
  /** Connections at most (default 10). */
  max?: number;
  /** Let the process exit while connections are idle (scripts, tests, the CLI); default false. */
  allowExitOnIdle?: boolean;
  /** Give up connecting after this long (default 5000 ms), so callers see an outage instead of hanging. */
  connectionTimeoutMillis?: number;
  /** Called for errors of idle connections (e.g. the server restarted); default: ignored, the pool reconnects. */
  onError?: (error: Error) => void;
}

/**
 * A pg pool for `databaseUrl`: search_path set to the URL's schema, and an error listener attached, so an
 * idle connection dropped by a Postgres restart never crashes the process (the pool replaces it on demand).
 */
export function createPool(
  databaseUrl: string,
  { max = 10, allowExitOnIdle = false, connectionTimeoutMillis = 5000, onError }: PoolOptions = {},
): pg.Pool {
  const { pool: settings } = connectionSettings(databaseUrl);
  const pool = new pg.Pool({
    connectionTimeoutMillis,
    keepAlive: true,
    ...settings,
    max,
    allowExitOnIdle,
  });
  pool.on("error", (error) => onError?.(error));
  // A checked-out client whose connection breaks emits "error" too, and pg leaves that to the holder: one
  // listener per client here means a broken connection fails its query, never the process.
  pool.on("connect", (client) => client.on("error", (error) => onError?.(error)));
  return pool;
}

/** Opens a Prisma client and a pool for `databaseUrl` (not the process singleton; tests and scripts use this). */
export function createDatabase(databaseUrl: string, options: PoolOptions = {}): Database {
  const { schema } = connectionSettings(databaseUrl);
  const pool = createPool(databaseUrl, options);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, { schema }) });
  let closing: Promise<void> | undefined;
  return {
    prisma,
    pool,
    schema,
    close() {
      closing ??= (async () => {
        await prisma.$disconnect();
        await pool.end();
      })();
      return closing;
    },
  };
}

const GLOBAL_KEY = Symbol.for("whisper.db");
type Holder = { [GLOBAL_KEY]?: Database };

/**
 * The process-wide database, created on first use from DATABASE_URL and kept on globalThis so Next's dev
 * reloads and separately bundled entry points (instrumentation, route handlers) share one pool.
 * Throws when DATABASE_URL is missing or malformed.
 */
export function db(): Database {
  const holder = globalThis as Holder;
  const existing = holder[GLOBAL_KEY];
  if (existing) return existing;
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/whisper)");
  const database = createDatabase(url);
  holder[GLOBAL_KEY] = database;
  return database;
}

/** Closes the process-wide database if open; the next db() call opens a new one (from the current env). */
export async function closeDb(): Promise<void> {
  const holder = globalThis as Holder;
  const existing = holder[GLOBAL_KEY];
  holder[GLOBAL_KEY] = undefined;
  await existing?.close();
}
