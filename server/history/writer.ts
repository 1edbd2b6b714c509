import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { copyText, MESSAGE_COLUMNS, type MessageRow } from "./rows";

/**
 * How a batch reaches the `messages` table (bench/history.ts measures all three):
 * - "copy": COPY straight into messages; if an id is already there (a redelivery) the transaction rolls
 *   back and the batch goes through "staging". Fastest when duplicates are rare, which they are.
 * - "staging": COPY into a per-connection temp table, then INSERT … SELECT … ON CONFLICT (id) DO NOTHING.
 * - "unnest": INSERT … SELECT FROM unnest($1::text[], …) ON CONFLICT (id) DO NOTHING.
 */
export type InsertMethod = "copy" | "staging" | "unnest";

const COLUMN_LIST = MESSAGE_COLUMNS.map((c) => `"${c}"`).join(", ");
const STAGING = "whisper_recorder_staging";
const UNIQUE_VIOLATION = "23505";

/** Connections that already have the staging temp table (it lives as long as the session). */
const hasStaging = new WeakSet<pg.ClientBase>();

/** A Postgres error that will recur however often the same rows are retried (bad data, too large, …). */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || code.length !== 5) return false;
  const cls = code.slice(0, 2);
  // 22 data exception (e.g. NUL in text, bad JSON), 23 integrity violation, 54 program limit (index row too big).
  return cls === "22" || cls === "23" || cls === "54";
}

/**
 * Writes `rows` in one transaction with the per-topic counters (topic_stats, topic_minutes), idempotent on
 * id. Resolves to the rows actually inserted (those whose id was new), in input order, after COMMIT.
 * Rejects, with nothing written, on any error; the client is left outside any transaction. A statement
 * that runs longer than `statementTimeoutMs` (when given) is cancelled by the server and rejects.
 */
export async function insertBatch(
  client: pg.ClientBase,
  rows: readonly MessageRow[],
  method: InsertMethod,
  statementTimeoutMs?: number,
): Promise<MessageRow[]> {
  if (rows.length === 0) return [];
  if (method === "copy") {
    try {
      return await inTransaction(client, statementTimeoutMs, async () => {
        await copyInto(client, "messages", rows);
        await updateCounters(client, rows);
        return [...rows];
      });
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      // Some id is already recorded: redo the batch the idempotent way.
    }
    method = "staging";
  }
  const how = method;
  return inTransaction(client, statementTimeoutMs, async () => {
    const insertedIds = how === "staging" ? await insertViaStaging(client, rows) : await insertViaUnnest(client, rows);
    const inserted = insertedIds.size === rows.length ? [...rows] : rows.filter((r) => insertedIds.has(r.id));
    await updateCounters(client, inserted);
    return inserted;
  });
}

/**
 * Like insertBatch but row by row inside one transaction (a savepoint each), for a batch that failed with
 * a data error: rows that fail with a data error are returned as `rejected` and not written; any other
 * error rejects the whole call with nothing written.
 */
export async function insertEach(
  client: pg.ClientBase,
  rows: readonly MessageRow[],
  statementTimeoutMs?: number,
): Promise<{ inserted: MessageRow[]; rejected: { row: MessageRow; error: unknown }[] }> {
  return inTransaction(client, statementTimeoutMs, async () => {
    const inserted: MessageRow[] = [];
    const rejected: { row: MessageRow; error: unknown }[] = [];
    for (const row of rows) {
      await client.query("SAVEPOINT whisper_row");
      try {
        const ids = await insertViaUnnest(client, [row]);
        await client.query("RELEASE SAVEPOINT whisper_row");
        if (ids.size > 0) inserted.push(row);
      } catch (error) {
        if (!isDataError(error)) throw error;
        await client.query("ROLLBACK TO SAVEPOINT whisper_row");
        rejected.push({ row, error });
      }
    }
    await updateCounters(client, inserted);
    return { inserted, rejected };
  });
}

async function inTransaction<T>(client: pg.ClientBase, statementTimeoutMs: number | undefined, work: () => Promise<T>): Promise<T> {
  await client.query("BEGIN");
  try {
    if (statementTimeoutMs !== undefined) await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.round(statementTimeoutMs))}`);
    const result = await work();
    await client.query("COMMIT");
    return result;
  } catch (error) {
    // A broken connection cannot roll back; the caller discards it (release(error)) and the server aborts.
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

/** COPY `rows` (text format) into `table`, columns as MESSAGE_COLUMNS. */
export async function copyInto(client: pg.ClientBase, table: string, rows: readonly MessageRow[]): Promise<void> {
  const stream = client.query(copyFrom(`COPY ${table} (${COLUMN_LIST}) FROM STDIN`));
  await pipeline(Readable.from([copyText(rows)]), stream);
}

async function insertViaStaging(client: pg.ClientBase, rows: readonly MessageRow[]): Promise<Set<string>> {
  if (!hasStaging.has(client)) {
    // ON COMMIT DELETE ROWS empties it at every commit, so each batch starts clean.
    await client.query(
      `CREATE TEMP TABLE IF NOT EXISTS ${STAGING} (LIKE messages INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`,
    );
    hasStaging.add(client);
  }
  await copyInto(client, STAGING, rows);
  const result = await client.query<{ id: string }>(
    `INSERT INTO messages (${COLUMN_LIST}) SELECT ${COLUMN_LIST} FROM ${STAGING} ON CONFLICT (id) DO NOTHING RETURNING id`,
  );
  return new Set(result.rows.map((r) => r.id));
}

const UNNEST_SQL = `INSERT INTO messages (${COLUMN_LIST})
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
    $9::text[], $10::jsonb[], $11::bytea[], $12::text[], $13::int[], $14::text[], $15::text[], $16::timestamptz[], $17::bigint[])
  ON CONFLICT (id) DO NOTHING RETURNING id`;

async function insertViaUnnest(client: pg.ClientBase, rows: readonly MessageRow[]): Promise<Set<string>> {
  const columns: unknown[][] = MESSAGE_COLUMNS.map(() => new Array(rows.length));
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const values = [
      r.id,
      r.topic,
      r.source,
      r.type,
      r.specversion,
      r.time,
      r.subject,
      r.datacontenttype,
      r.dataschema,
      JSON.stringify(r.extensions),
      r.data === null ? null : Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength),
      r.dataText,
      r.size,
      r.orderingKey,
      r.replayOf,
      r.receivedAt,
      r.sequence,
    ];
    for (let c = 0; c < values.length; c++) columns[c]![i] = values[c];
  }
  const result = await client.query<{ id: string }>(UNNEST_SQL, columns);
  return new Set(result.rows.map((r) => r.id));
}

const COUNTERS_SQL = `WITH totals AS (
    INSERT INTO topic_stats (topic, message_count, last_message_at)
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::timestamptz[])
    ON CONFLICT (topic) DO UPDATE SET
      message_count = topic_stats.message_count + EXCLUDED.message_count,
      last_message_at = GREATEST(topic_stats.last_message_at, EXCLUDED.last_message_at)
  )
  INSERT INTO topic_minutes (topic, minute, count)
  SELECT * FROM unnest($4::text[], $5::timestamptz[], $6::int[])
  ON CONFLICT (topic, minute) DO UPDATE SET count = topic_minutes.count + EXCLUDED.count`;

/** Adds the inserted rows to the per-topic totals and per-minute counts (keys sorted: no lock-order deadlocks). */
async function updateCounters(client: pg.ClientBase, rows: readonly MessageRow[]): Promise<void> {
  if (rows.length === 0) return;
  const totals = new Map<string, { count: number; last: number }>();
  const minutes = new Map<string, number>();
  for (const r of rows) {
    const at = r.receivedAt.getTime();
    const t = totals.get(r.topic);
    if (t) {
      t.count++;
      if (at > t.last) t.last = at;
    } else totals.set(r.topic, { count: 1, last: at });
    const key = `${r.topic}\u0000${at - (at % 60_000)}`;
    minutes.set(key, (minutes.get(key) ?? 0) + 1);
  }
  const topics = [...totals.keys()].sort();
  const minuteKeys = [...minutes.keys()].sort();
  await client.query(COUNTERS_SQL, [
    topics,
    topics.map((t) => totals.get(t)!.count),
    topics.map((t) => new Date(totals.get(t)!.last)),
    minuteKeys.map((k) => k.slice(0, k.indexOf("\u0000"))),
    minuteKeys.map((k) => new Date(Number(k.slice(k.indexOf("\u0000") + 1)))),
    minuteKeys.map((k) => minutes.get(k)!),
  ]);
}

/** Deletes per-minute counts older than `keepMinutes` (the sparkline needs 30). */
export async function pruneMinutes(client: pg.ClientBase | pg.Pool, keepMinutes = 180): Promise<void> {
  await client.query("DELETE FROM topic_minutes WHERE minute < now() - make_interval(mins => $1)", [keepMinutes]);
}
