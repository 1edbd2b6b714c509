import type { PoolConfig } from "pg";

/** A schema name we are willing to put in a search_path and in DDL without quoting surprises. */
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export interface ConnectionSettings {
  /** node-postgres settings with host/port/user/database as separate fields and search_path set to `schema`. */
  readonly pool: PoolConfig;
  /** The Postgres schema holding the tables: the URL's `?schema=` parameter, else "public". */
  readonly schema: string;
}

/**
 * Splits a PostgreSQL URL into node-postgres settings plus the Prisma-style `schema` parameter.
 *
 * Contract: the result never carries a connection string (the migration adapter derives the shadow
 * database's settings by replacing `database`, which a connection string would override); every connection
 * made with it starts with `search_path` = the schema, so raw SQL and Prisma agree on where the tables are.
 * Understood query parameters: schema, host (socket directory), sslmode, application_name, connect_timeout.
 * Throws for a URL that is not postgres:// or postgresql://, or a schema name outside [A-Za-z_][A-Za-z0-9_]*.
 */
export function connectionSettings(url: string): ConnectionSettings {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new Error("DATABASE_URL is not a URL (expected postgresql://user@host:5432/db)", { cause });
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new Error(`DATABASE_URL must start with postgresql:// (got ${parsed.protocol}//…)`);
  }
  const schema = parsed.searchParams.get("schema") ?? "public";
  if (!SCHEMA_NAME.test(schema)) throw new Error(`DATABASE_URL schema ${JSON.stringify(schema)} is not a plain identifier`);
  const query = parsed.searchParams;
  const config: PoolConfig = {
    // `?host=/var/run/postgresql` selects a Unix socket directory, as libpq does.
    host: query.get("host") ?? (parsed.hostname.replace(/^\[(.*)\]$/, "$1") || "localhost"),
    port: parsed.port ? Number(parsed.port) : 5432,
    user: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    database: decodeURIComponent(parsed.pathname.replace(/^\//, "")) || undefined,
    options: `-c search_path=${schema}`,
  };
  const sslmode = query.get("sslmode");
  if (sslmode === "require" || sslmode === "prefer") config.ssl = { rejectUnauthorized: false };
  else if (sslmode === "verify-ca" || sslmode === "verify-full") config.ssl = true;
  const appName = query.get("application_name");
  if (appName) config.application_name = appName;
  const connectTimeout = Number(query.get("connect_timeout"));
  if (connectTimeout > 0) config.connectionTimeoutMillis = connectTimeout * 1000;
  return { pool: config, schema };
}

/** True for a usable schema name (see connectionSettings). */
export function isSchemaName(name: string): boolean {
  return SCHEMA_NAME.test(name);
}
