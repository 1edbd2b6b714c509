import type pg from "pg";
import { historyDefaults } from "./defaults";

/** Limits of one topic's history; null = no limit of that kind. */
export interface RetentionLimits {
  /** Rows received longer ago than this many seconds are deleted. */
  maxAgeSeconds: number | null;
  /** At most this many rows are kept; the oldest (lowest ingest_seq) go first. */
  maxRows: number | null;
}

export interface RetentionSettings {
  /** The limits of a topic with no setting of its own (WHISPER_RETENTION_MAX_AGE_SECONDS / _MAX_ROWS). */
  defaults: RetentionLimits;
  /** Audit entries and resolved stall entries older than this many days are deleted; null = kept forever. */
  auditDays: number | null;
  /** How often a pass runs. */
  intervalMs: number;
  /** Rows per delete statement. */
  batchRows: number;
}

/** What one pass deleted. */
export interface RetentionReport {
  /** false when another replica was running a pass (this one did nothing). */
  ran: boolean;
  /** Rows deleted per topic (topics with none left out). */
  messages: Record<string, number>;
  audit: number;
  stalls: number;
}

/**
 * A topic's own setting as stored in `topics` (null = the default, 0 = no limit) resolved against the
 * defaults: the limits that apply to it.
 */
export function effectiveLimits(setting: { maxAgeSeconds: number | null; maxRows: number | null }, defaults: RetentionLimits): RetentionLimits {
  const pick = (own: number | null, fallback: number | null) => (own === null ? fallback : own === 0 ? null : own);
  return { maxAgeSeconds: pick(setting.maxAgeSeconds, defaults.maxAgeSeconds), maxRows: pick(setting.maxRows, defaults.maxRows) };
}

export const defaultRetentionSettings: RetentionSettings = {
  defaults: { maxAgeSeconds: historyDefaults.retention.maxAgeSeconds, maxRows: historyDefaults.retention.maxRows },
  auditDays: historyDefaults.retention.auditDays,
  intervalMs: historyDefaults.retention.intervalSeconds * 1000,
  batchRows: historyDefaults.retention.batchRows,
};

/** One pass at a time across replicas sharing the database (a session advisory lock; the number is arbitrary). */
export const RETENTION_LOCK = 0x77686973; // "whis"

// Each statement deletes one batch and lowers topic_stats.row_count by as much, in one short transaction: the
// rows are picked by an index ((topic, received_at) or (topic, ingest_seq)) and deleted by ctid (rows are never
// updated, so a ctid names the row the subquery saw). topic_stats is locked last, for the instant of the UPDATE.
const DELETE_OLD = `WITH gone AS (
    DELETE FROM messages WHERE ctid = ANY (ARRAY(
      SELECT ctid FROM messages WHERE topic = $1 AND received_at < $2 ORDER BY received_at LIMIT $3))
    RETURNING 1
  )
  UPDATE topic_stats SET row_count = row_count - (SELECT count(*) FROM gone) WHERE topic = $1
  RETURNING (SELECT count(*) FROM gone)::int AS deleted`;

const DELETE_OLDEST = `WITH gone AS (
    DELETE FROM messages WHERE ctid = ANY (ARRAY(
      SELECT ctid FROM messages WHERE topic = $1 ORDER BY ingest_seq LIMIT $2))
    RETURNING 1
  )
  UPDATE topic_stats SET row_count = row_count - (SELECT count(*) FROM gone) WHERE topic = $1
  RETURNING (SELECT count(*) FROM gone)::int AS deleted`;

const TOPICS = `SELECT s.topic, s.row_count::text AS row_count, t.retention_max_age_seconds, t.retention_max_rows
  FROM topic_stats s LEFT JOIN topics t ON t.name = s.topic WHERE s.row_count > 0 ORDER BY s.topic`;

const DELETE_AUDIT = `DELETE FROM audit_log WHERE id = ANY (ARRAY(
  SELECT id FROM audit_log WHERE at < now() - make_interval(days => $1) ORDER BY at LIMIT $2))`;

// Open entries (stalled, failed) are kept whatever their age: they wait for the operator.
const DELETE_STALLS = `DELETE FROM stalls WHERE id = ANY (ARRAY(
  SELECT id FROM stalls WHERE status IN ('resumed', 'discarded') AND updated_at < now() - make_interval(days => $1) LIMIT $2))`;

/**
 * Enforces retention in the background: per topic by age and by row count (the topic's own setting, else the
 * defaults), plus the audit log and resolved stall entries by age.
 *
 * Contract:
 * - batched deletes, never a long lock: each batch of `batchRows` rows is its own statement and transaction;
 *   the writer's per-topic lock (topic_stats row) is taken only for the instant of the counter update, so
 *   ingest goes on while a pass runs (docs/history.md has the measurements behind this choice);
 * - deletes only what a limit excludes: by age the rows with received_at before now() − maxAge (database
 *   clock at the start of the topic's turn); by count the oldest rows by ingest_seq beyond maxRows, counted
 *   from topic_stats.row_count, so rows committed meanwhile are never the ones deleted and a pass never
 *   deletes below the limit;
 * - bounded: a pass deletes at most what exceeded the limits when it reached the topic (rows arriving
 *   meanwhile are the next pass's), so it ends however fast ingest runs;
 * - one pass at a time across replicas (a session advisory lock; a replica finding it taken skips the pass);
 * - never throws from the timer: a failed pass is reported to `onError` and the next one retries.
 */
export class Retention {
  readonly #pool: pg.Pool;
  readonly #settings: RetentionSettings;
  readonly #onError: (error: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RetentionReport> | undefined;
  #stopped = false;

  constructor(pool: pg.Pool, settings: RetentionSettings, onError: (error: unknown) => void) {
    this.#pool = pool;
    this.#settings = settings;
    this.#onError = onError;
  }

  /** Runs a pass every intervalMs (the first one intervalMs from now). */
  start(): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.runOnce().catch((error: unknown) => this.#onError(error));
    }, this.#settings.intervalMs);
    this.#timer.unref?.();
  }

  /** Stops the timer; a pass in progress finishes its current batch and ends. Resolves once it did. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => {});
  }

  /** One pass now (or the one already running). Rejects if the database fails. */
  runOnce(): Promise<RetentionReport> {
    this.#running ??= this.#pass().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #pass(): Promise<RetentionReport> {
    const report: RetentionReport = { ran: false, messages: {}, audit: 0, stalls: 0 };
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1) AS locked", [RETENTION_LOCK]);
      if (!rows[0]?.locked) return report;
      report.ran = true;
      try {
        await this.#messages(client, report);
        await this.#auditAndStalls(client, report);
      } finally {
        await client.query("SELECT pg_advisory_unlock($1)", [RETENTION_LOCK]);
      }
      return report;
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      // A connection that failed mid-pass may still hold the advisory lock: never hand it back.
      client.release(broken);
    }
  }

  async #messages(client: pg.PoolClient, report: RetentionReport): Promise<void> {
    const { batchRows, defaults } = this.#settings;
    const { rows: topics } = await client.query<{
      topic: string;
      row_count: string;
      retention_max_age_seconds: number | null;
      retention_max_rows: number | null;
    }>(TOPICS);
    for (const t of topics) {
      const limits = effectiveLimits({ maxAgeSeconds: t.retention_max_age_seconds, maxRows: t.retention_max_rows }, defaults);
      let deleted = 0;
      if (limits.maxAgeSeconds !== null) {
        const { rows } = await client.query<{ cutoff: Date }>("SELECT now() - make_interval(secs => $1) AS cutoff", [limits.maxAgeSeconds]);
        const cutoff = rows[0]!.cutoff;
        for (let n = batchRows; n === batchRows && !this.#stopped; ) {
          n = await deleteBatch(client, DELETE_OLD, [t.topic, cutoff, batchRows]);
          deleted += n;
        }
      }
      if (limits.maxRows !== null) {
        // What exceeds the limit now; each batch re-reads the count, so it never deletes below the limit.
        let budget = (await rowCount(client, t.topic)) - limits.maxRows;
        while (budget > 0 && !this.#stopped) {
          const excess = Math.min(budget, (await rowCount(client, t.topic)) - limits.maxRows);
          if (excess <= 0) break;
          const n = await deleteBatch(client, DELETE_OLDEST, [t.topic, Math.min(excess, batchRows)]);
          if (n === 0) break;
          deleted += n;
          budget -= n;
        }
      }
      if (deleted > 0) {
        report.messages[t.topic] = deleted;
        await refreshOldest(client, t.topic);
      }
      if (this.#stopped) return;
    }
  }

  async #auditAndStalls(client: pg.PoolClient, report: RetentionReport): Promise<void> {
    const { auditDays, batchRows } = this.#settings;
    if (auditDays === null) return;
    for (let n = batchRows; n === batchRows && !this.#stopped; ) {
      n = (await client.query(DELETE_AUDIT, [auditDays, batchRows])).rowCount ?? 0;
      report.audit += n;
    }
    for (let n = batchRows; n === batchRows && !this.#stopped; ) {
      n = (await client.query(DELETE_STALLS, [auditDays, batchRows])).rowCount ?? 0;
      report.stalls += n;
    }
  }
}

/**
 * topic_stats.oldest_message_at after deletes: the topic's row is locked first (waiting for a writer holding
 * it), so the minimum, read by the next statement, includes every row committed before.
 */
async function refreshOldest(client: pg.PoolClient, topic: string): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT 1 FROM topic_stats WHERE topic = $1 FOR UPDATE", [topic]);
    await client.query("UPDATE topic_stats SET oldest_message_at = (SELECT min(received_at) FROM messages WHERE topic = $1) WHERE topic = $1", [topic]);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

async function rowCount(client: pg.PoolClient, topic: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>("SELECT row_count AS n FROM topic_stats WHERE topic = $1", [topic]);
  return Number(rows[0]?.n ?? 0);
}

async function deleteBatch(client: pg.PoolClient, sql: string, params: unknown[]): Promise<number> {
  const { rows } = await client.query<{ deleted: number }>(sql, params);
  return rows[0]?.deleted ?? 0;
}
