import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { randomUUID } from "node:crypto";
import { connectionSettings } from "./connection";

/** The adapter interface the Prisma CLI's Wasm schema engine asks prisma.config.ts for. */
type MigrationAdapterFactory = {
  readonly provider: "postgres";
  readonly adapterName: string;
  connect: PrismaPg["connect"];
  connectToShadowDb: PrismaPg["connectToShadowDb"];
};

const CHAR_OID = 18; // Postgres "char" (one byte), used by catalog columns such as pg_class.relkind
const NAME_OID = 19; // Postgres name, used by catalog columns such as pg_class.relname
const TEXT_OID = 25;

type Fields = { dataTypeID: number }[];
type ResultLike = { fields?: Fields } | ResultLike[] | undefined;

/** Reports catalog "char"/name columns as text: adapter-pg 6.19.3 cannot deserialize them (prisma/orm#27403). */
function asText(result: ResultLike): ResultLike {
  if (Array.isArray(result)) {
    for (const r of result) asText(r);
  } else if (result?.fields) {
    for (const field of result.fields) {
      if (field.dataTypeID === CHAR_OID || field.dataTypeID === NAME_OID) field.dataTypeID = TEXT_OID;
    }
  }
  return result;
}

/**
 * A pg client whose query results never expose "char"/name column types (both arrive as strings anyway).
 * Covers the three ways query() is called: with a callback (pg.Pool does this), promise-returning, and
 * with a Submittable (returned untouched; the schema engine does not use those).
 */
class CatalogSafeClient extends pg.Client {
  // The override must accept every overload of pg.Client#query; its types are narrowed by the base class.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const callbackAt = args.findIndex((a) => typeof a === "function");
    if (callbackAt >= 0) {
      const callback = args[callbackAt] as (error: unknown, result: ResultLike) => void;
      args[callbackAt] = (error: unknown, result: ResultLike) => callback(error, error ? result : asText(result));
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
    const out = (super.query as (...a: unknown[]) => unknown)(...args);
    if (out && typeof (out as Promise<ResultLike>).then === "function") {
      return (out as Promise<ResultLike>).then(asText);
    }
    return out;
  }
}

/**
 * The driver-adapter factory `prisma migrate` / `db push` use through prisma.config.ts (engine "js", so no
 * engine binary is downloaded). Works around three adapter-pg 6.19.3 problems:
 *  1. catalog columns of type "char"/name fail to deserialize → CatalogSafeClient reports them as text;
 *  2. a connection string would override the shadow database's name (P3006) → host/port/user/database are
 *     passed separately (connectionSettings never yields a connection string);
 *  3. the stock connectToShadowDb drops the shadow database while its pool still holds connections →
 *     ours ends that pool first, then drops the database over the main connection.
 * Every pool has allowExitOnIdle so the CLI can exit as soon as it is done.
 */
export function migrationAdapter(databaseUrl: string): MigrationAdapterFactory {
  const { pool: settings, schema } = connectionSettings(databaseUrl);
  const poolConfig: pg.PoolConfig = { ...settings, max: 4, allowExitOnIdle: true, Client: CatalogSafeClient };
  const main = new PrismaPg(new pg.Pool(poolConfig), { schema, disposeExternalPool: true });
  return {
    provider: "postgres",
    adapterName: main.adapterName,
    connect: () => main.connect(),
    async connectToShadowDb() {
      const admin = new pg.Pool({ ...poolConfig, max: 1 });
      const database = `prisma_shadow_${randomUUID().replace(/-/g, "")}`;
      try {
        await admin.query(`CREATE DATABASE "${database}"`);
      } catch (error) {
        await admin.end();
        throw error;
      }
      const shadowPool = new pg.Pool({ ...poolConfig, database, options: undefined });
      const adapter = await new PrismaPg(shadowPool, { disposeExternalPool: true }).connect();
      const dispose = adapter.dispose.bind(adapter);
      adapter.dispose = async () => {
        try {
          await dispose(); // ends shadowPool: no session may remain when the database is dropped
        } finally {
          try {
            await admin.query(`DROP DATABASE IF EXISTS "${database}"`);
          } finally {
            await admin.end();
          }
        }
      };
      return adapter;
    },
  };
}
