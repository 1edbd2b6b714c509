import type pg from "pg";
import { mustFollow, type TransactionTurn } from "./commit-turn";
import { CopyIn } from "./copy-in";
import { TurnLostError, WriteAbortedError } from "./errors";
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

/** How insertBatch/insertEach run their transactions. */
export interface InsertOptions {
  /** A statement running longer than this is cancelled by the server (the call rejects). */
  statementTimeoutMs?: number;
  /** The rows' COPY text (or its UTF-8 bytes) when already built by copyText (built while the previous batch was written). */
  text?: string | Uint8Array;
  /** The batch's place in its topic's commit order (commit-turn.ts); without one, the transaction just runs. */
  turn?: TransactionTurn;
  /** Aborts waiting for the turn (the call then rejects with WriteAbortedError, nothing written). */
  signal?: AbortSignal;
}

/**
 * Writes `rows` in one transaction with the per-topic counters (topic_stats, topic_minutes), idempotent on
 * id. Resolves to the rows actually inserted (those whose id was new), in input order, after COMMIT.
 * Rejects, with nothing written, on any error; the client is left outside any transaction. A turn that is
 * lost (the previous batch of the topic rolled back) rejects with TurnLostError.
 *
 * Arrival order: every row's ingest_seq is taken (column default, in input order) only after the transaction
 * locked the topic_stats row of each of its topics (sorted, so two writers never deadlock on them), and that
 * lock is held until COMMIT. Two transactions writing one topic are therefore serialised, and the later one
 * takes its values after the earlier one committed or rolled back: per topic, ingest_seq increases in commit
 * order, whichever replica or connection writes. With a turn, the batches of one watch also commit in the
 * order they were cut (commit-turn.ts).
 */
export async function insertBatch(
  client: pg.ClientBase,
  rows: readonly MessageRow[],
  method: InsertMethod,
  options: InsertOptions = {},
): Promise<MessageRow[]> {
  if (rows.length === 0) {
    options.turn?.ended(true);
    return [];
  }
  if (method === "copy") {
    try {
      await copyTransaction(client, options, countersInline(client, rowCounters(rows)), options.text ?? copyText(rows));
      return [...rows];
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      // Some id is already recorded: redo the batch the idempotent way.
    }
    method = "staging";
  }
  const how = method;
  return inTransaction(client, options, async ({ begin, locked }) => {
    await client.query(begin);
    let insertedIds: Set<string>;
    if (how === "staging") {
      await ensureStaging(client);
      await copyInto(client, STAGING, rows, options.text);
      await lockTopics(client, rows);
      locked();
      insertedIds = await insertFromStaging(client);
    } else {
      await lockTopics(client, rows);
      locked();
      insertedIds = await insertViaUnnest(client, rows);
    }
    const inserted = insertedIds.size === rows.length ? [...rows] : firstOfEachInserted(rows, insertedIds);
    await updateCounters(client, inserted);
    return { value: inserted, committed: false };
  });
}

/**
 * A batch of one topic the recorder prepared (prepare.ts): its COPY text and arrival times are at hand, its rows
 * are built only when a slow path needs them.
 */
export interface PreparedRows {
  readonly topic: string;
  /** Arrival time (ms) of each row, in order: the per-topic counters. */
  readonly receivedAt: readonly number[];
  readonly text: string | Uint8Array;
  /** The rows (decoded again: the duplicate, unnest and row-by-row paths). */
  rows(): MessageRow[];
}

/**
 * insertBatch for a prepared batch: "all" when every row was new (the COPY path, no row built), else the rows
 * inserted (a redelivery made it take the staging path). Same contract as insertBatch.
 */
export async function insertPrepared(
  client: pg.ClientBase,
  batch: PreparedRows,
  method: InsertMethod,
  options: InsertOptions = {},
): Promise<"all" | MessageRow[]> {
  if (method === "copy" && batch.receivedAt.length > 0) {
    try {
      const counters = countersInline(client, counterParams(batch.receivedAt.length, () => batch.topic, (i) => batch.receivedAt[i]!));
      await copyTransaction(client, options, counters, batch.text);
      return "all";
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
    }
    return insertBatch(client, batch.rows(), "staging", { ...options, text: batch.text });
  }
  return insertBatch(client, batch.rows(), method, method === "unnest" ? { ...options, text: undefined } : { ...options, text: batch.text });
}

/**
 * Like insertBatch but row by row inside one transaction (a savepoint each), for a batch that failed with
 * a data error: rows that fail with a data error are returned as `rejected` and not written; any other
 * error rejects the whole call with nothing written. Takes the topic locks first, like insertBatch.
 */
export async function insertEach(
  client: pg.ClientBase,
  rows: readonly MessageRow[],
  options: InsertOptions = {},
): Promise<{ inserted: MessageRow[]; rejected: { row: MessageRow; error: unknown }[] }> {
  return inTransaction(client, options, async ({ begin, locked }) => {
    await client.query(begin);
    await lockTopics(client, rows);
    locked();
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
    return { value: { inserted, rejected }, committed: false };
  });
}

/**
 * The copy path of insertBatch/insertPrepared: one simple query (copy-in.ts) that runs BEGIN, reports the
 * transaction's id to the turn, upserts the counters (this takes the topic locks), COPYs the rows (they take their
 * sequence values) and, when the turn allows it in SQL, checks that the previous batch committed and COMMITs — one
 * round trip for the whole batch. COPY starting means the locks are held.
 */
async function copyTransaction(client: pg.ClientBase, options: InsertOptions, counters: string, text: string | Uint8Array): Promise<void> {
  await inTransaction(client, options, async ({ begin, locked, began, commit }) => {
    await copyInto(client, "messages", [], text, {
      before: `${begin}; SELECT pg_current_xact_id()::text; ${counters}`,
      after: commit,
      onStarted: locked,
      onRow: ([xid]) => xid && began(xid),
    });
    return { value: undefined, committed: commit !== undefined };
  });
}

/** What `work` gets from inTransaction. */
interface Transaction {
  /** BEGIN and the statement timeout: run it first, as one simple query or in front of the first statement. */
  begin: string;
  /** Call once the transaction holds the topic locks. */
  locked(): void;
  /** Call with the transaction's id (pg_current_xact_id) as soon as it is known. */
  began(xid: string): void;
  /**
   * SQL that commits only if the turn allows it (else it fails, and the transaction rolls back with TurnLostError):
   * `work` may run it as its last statement and answer `committed: true`. Undefined when the turn cannot be
   * checked in SQL: `work` must then not commit, and inTransaction commits once the turn allows it.
   */
  commit: string | undefined;
}

/** SQLSTATE of the check in Transaction.commit (its own class, so it is never taken for a data error). */
const TURN_LOST = "WH001";

/**
 * Transaction.commit for a turn that must follow `previousXid` (mustFollow): a plain COMMIT when there is nothing
 * to follow; the server-side check then COMMIT for a known transaction id; undefined when the id is unknown.
 */
function commitStatement(previousXid: string | null | undefined): string | undefined {
  if (previousXid === null) return "COMMIT";
  if (previousXid === undefined || !/^\d+$/.test(previousXid)) return undefined;
  return (
    `DO $$BEGIN IF pg_xact_status('${previousXid}'::xid8) IS DISTINCT FROM 'committed' THEN ` +
    `RAISE EXCEPTION 'the previous batch of this topic did not commit' USING ERRCODE = '${TURN_LOST}'; END IF; END$$; COMMIT`
  );
}

/**
 * Runs `work` in a transaction, following `turn`: `work` starts only once the turn is ready and calls locked()
 * once it holds the topic locks; the transaction commits (in `work`, or here after it) only if the previous batch
 * of the turn committed, else it rolls back with TurnLostError. Any failure rolls back and tells the turn. One
 * statement at a time on the connection (pg 9 drops queued queries).
 */
async function inTransaction<T>(
  client: pg.ClientBase,
  options: InsertOptions,
  work: (tx: Transaction) => Promise<{ value: T; committed: boolean }>,
): Promise<T> {
  const { statementTimeoutMs, turn, signal } = options;
  const ticket = turn ? await turn.ready(signal ?? new AbortController().signal) : undefined;
  if (turn && ticket === undefined) throw new WriteAbortedError();
  const begin = statementTimeoutMs === undefined ? "BEGIN" : `BEGIN; SET LOCAL statement_timeout = ${Math.max(1, Math.round(statementTimeoutMs))}`;
  const commit = commitStatement(ticket ? mustFollow(ticket) : null);
  try {
    const { value, committed } = await work({ begin, commit, locked: () => turn?.locked(), began: (xid) => turn?.began(xid) });
    if (!committed) {
      if (turn && ticket && !(await turn.mayCommit(ticket))) throw new TurnLostError();
      await client.query("COMMIT");
    }
    turn?.ended(true);
    return value;
  } catch (error) {
    turn?.ended(false);
    hasStaging.delete(client); // a staging table created in this transaction is gone (IF NOT EXISTS redoes it cheaply)
    // A broken connection cannot roll back; the caller discards it (release(error)) and the server aborts.
    await client.query("ROLLBACK").catch(() => {});
    throw (error as { code?: unknown } | null)?.code === TURN_LOST ? new TurnLostError() : error;
  }
}

/**
 * Locks the topic_stats row of each topic of `rows` until the transaction ends (creating missing rows), in
 * topic order. Two statements, so the lock is taken with a fresh snapshot: a row another writer created and
 * committed meanwhile is seen and locked (a new topic's row is what its first writers wait on).
 */
async function lockTopics(client: pg.ClientBase, rows: readonly MessageRow[]): Promise<void> {
  const topics = [...new Set(rows.map((r) => r.topic))].sort();
  await client.query("INSERT INTO topic_stats (topic) SELECT t FROM unnest($1::text[]) AS t ORDER BY t ON CONFLICT (topic) DO NOTHING", [topics]);
  await client.query("SELECT 1 FROM topic_stats WHERE topic = ANY($1::text[]) ORDER BY topic FOR UPDATE", [topics]);
}

/**
 * COPY `rows` (text format; `text` when already built by copyText) into `table`, columns as MESSAGE_COLUMNS.
 * `before`/`after`: statements sent in the same simple query ahead of / after the COPY; `onStarted` is called when
 * the server starts taking the data, i.e. once the statements before it completed; `onRow` with each row those
 * statements return. The data goes out with the query (copy-in.ts): the COPY starts as soon as the statements
 * before it are done, with no round trip between.
 */
export async function copyInto(
  client: pg.ClientBase,
  table: string,
  rows: readonly MessageRow[],
  text?: string | Uint8Array,
  { before, after, onStarted, onRow }: { before?: string; after?: string; onStarted?: () => void; onRow?: (fields: (string | null)[]) => void } = {},
): Promise<void> {
  const query = `${before ? `${before}; ` : ""}COPY ${table} (${COLUMN_LIST}) FROM STDIN${after ? `; ${after}` : ""}`;
  await client.query(new CopyIn(query, text ?? copyText(rows), { onStarted, onRow })).done;
}

/**
 * The per-session staging table: the message columns without constraints or defaults (no ingest_seq is
 * taken there), plus the COPY order; ON COMMIT DELETE ROWS empties it at every commit.
 */
async function ensureStaging(client: pg.ClientBase): Promise<void> {
  if (hasStaging.has(client)) return;
  await client.query(
    `CREATE TEMP TABLE IF NOT EXISTS ${STAGING} ON COMMIT DELETE ROWS AS SELECT ${COLUMN_LIST} FROM messages WITH NO DATA;
     ALTER TABLE ${STAGING} ADD COLUMN IF NOT EXISTS ord bigint GENERATED ALWAYS AS IDENTITY`,
  );
  hasStaging.add(client);
}

/** Moves the staged rows into messages in COPY order (taking ingest_seq values), skipping ids already there. */
async function insertFromStaging(client: pg.ClientBase): Promise<Set<string>> {
  const result = await client.query<{ id: string }>(
    `INSERT INTO messages (${COLUMN_LIST}) SELECT ${COLUMN_LIST} FROM ${STAGING} ORDER BY ord ON CONFLICT (id) DO NOTHING RETURNING id`,
  );
  return new Set(result.rows.map((r) => r.id));
}

/**
 * The rows whose id was inserted, in input order, each id once: a batch can hold one id twice (an at-least-once
 * broker delivering a message again before the first delivery's batch was written), and only its first row, the one
 * inserted, is new.
 */
function firstOfEachInserted(rows: readonly MessageRow[], insertedIds: Set<string>): MessageRow[] {
  const taken = new Set<string>();
  return rows.filter((r) => insertedIds.has(r.id) && !taken.has(r.id) && taken.add(r.id));
}

// WITH ORDINALITY … ORDER BY: rows are inserted (and take ingest_seq values) in array order.
const UNNEST_SQL = `INSERT INTO messages (${COLUMN_LIST})
  SELECT ${MESSAGE_COLUMNS.map((_, i) => `c${i}`).join(", ")}
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
      $9::text[], $10::jsonb[], $11::bytea[], $12::text[], $13::int[], $14::text[], $15::text[], $16::timestamptz[], $17::bigint[])
      WITH ORDINALITY AS u(${MESSAGE_COLUMNS.map((_, i) => `c${i}`).join(", ")}, ord)
   ORDER BY ord
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
    INSERT INTO topic_stats (topic, message_count, row_count, last_message_at, oldest_message_at)
    SELECT t, n, n, at, first FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::timestamptz[]) AS u(t, n, at, first) ORDER BY t
    ON CONFLICT (topic) DO UPDATE SET
      message_count = topic_stats.message_count + EXCLUDED.message_count,
      row_count = topic_stats.row_count + EXCLUDED.row_count,
      last_message_at = GREATEST(topic_stats.last_message_at, EXCLUDED.last_message_at),
      oldest_message_at = LEAST(topic_stats.oldest_message_at, EXCLUDED.oldest_message_at)
  )
  INSERT INTO topic_minutes (topic, minute, count)
  SELECT * FROM unnest($5::text[], $6::timestamptz[], $7::int[])
  ON CONFLICT (topic, minute) DO UPDATE SET count = topic_minutes.count + EXCLUDED.count`;

type CounterParams = [string[], number[], Date[], Date[], string[], Date[], number[]];

/**
 * Adds the rows to the per-topic totals and per-minute counts (keys sorted: no lock-order deadlocks). The
 * topic_stats upsert locks each topic's row until the transaction ends (the order contract of insertBatch).
 */
async function updateCounters(client: pg.ClientBase, rows: readonly MessageRow[]): Promise<void> {
  if (rows.length === 0) return;
  await client.query(COUNTERS_SQL, rowCounters(rows));
}

/** COUNTERS_SQL with its parameters written inline (escaped), for a simple query that carries more statements. */
function countersInline(client: pg.ClientBase, params: CounterParams): string {
  const [topics, counts, lasts, firsts, minuteTopics, minutes, minuteCounts] = params;
  const texts = (values: string[]) => `ARRAY[${values.map((v) => client.escapeLiteral(v)).join(",")}]`;
  const numbers = (values: number[]) => `ARRAY[${values.map((v) => String(Math.trunc(v))).join(",")}]`;
  const times = (values: Date[]) => texts(values.map((d) => d.toISOString()));
  const inline = [texts(topics), numbers(counts), times(lasts), times(firsts), texts(minuteTopics), times(minutes), numbers(minuteCounts)];
  return COUNTERS_SQL.replace(/\$([1-7])/g, (_, n: string) => inline[Number(n) - 1]!);
}

function rowCounters(rows: readonly MessageRow[]): CounterParams {
  return counterParams(rows.length, (i) => rows[i]!.topic, (i) => rows[i]!.receivedAt.getTime());
}

/** COUNTERS_SQL's parameters for `n` rows (topic and arrival ms of each): totals per topic and counts per (topic, minute), keys sorted. */
function counterParams(n: number, topicOf: (i: number) => string, timeOf: (i: number) => number): CounterParams {
  const totals = new Map<string, { count: number; last: number; first: number }>();
  const minutes = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const topic = topicOf(i);
    const at = timeOf(i);
    const t = totals.get(topic);
    if (t) {
      t.count++;
      if (at > t.last) t.last = at;
      if (at < t.first) t.first = at;
    } else totals.set(topic, { count: 1, last: at, first: at });
    const key = `${topic}\u0000${at - (at % 60_000)}`;
    minutes.set(key, (minutes.get(key) ?? 0) + 1);
  }
  const topics = [...totals.keys()].sort();
  const minuteKeys = [...minutes.keys()].sort();
  return [
    topics,
    topics.map((t) => totals.get(t)!.count),
    topics.map((t) => new Date(totals.get(t)!.last)),
    topics.map((t) => new Date(totals.get(t)!.first)),
    minuteKeys.map((k) => k.slice(0, k.indexOf("\u0000"))),
    minuteKeys.map((k) => new Date(Number(k.slice(k.indexOf("\u0000") + 1)))),
    minuteKeys.map((k) => minutes.get(k)!),
  ];
}

/** Deletes per-minute activity older than `keepMinutes` (the sparkline needs 30, the topic charts' 24 h preset 1,440). */
export async function pruneMinutes(client: pg.ClientBase | pg.Pool, keepMinutes = 1_500): Promise<void> {
  await client.query("DELETE FROM topic_minutes WHERE minute < now() - make_interval(mins => $1)", [keepMinutes]);
}
