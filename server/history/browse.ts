import type pg from "pg";
import type { Filter } from "@/server/contract/filter";
import { filterSql } from "./filter-sql";

/**
 * Reading history pages: keyset pagination on ingest_seq (arrival order) with the filter language, each page
 * bounded in work however rare the matches are.
 *
 * - Conditions the btree indexes serve (topic, attribute = / prefix, id, seq, the time range) run as one
 *   ordered query: `ORDER BY ingest_seq DESC LIMIT n + 1`.
 * - Conditions checked row by row (data fields, text, `!=`): at most SCAN_ROWS rows of the window are read in
 *   order (with a `data.path = value` term, first PROBE_ROWS of them). If that fills the page (a common value), done.
 * - Else, with a `data.path = value` term, the GIN index is asked for every candidate row of the window, at most
 *   GIN_CANDIDATES of them (bitmap scans only, so the planner cannot walk the btree instead): if there are no more
 *   than that, they are checked, sorted and the page is exact, however rare the value. It is not asked when the
 *   probe matched GIN_SKIP_RATE of its rows or more (a value that frequent has more candidates than that); then
 *   the scan goes on to SCAN_ROWS.
 * - Else the page ends early: `searchedTo` says how far back it looked and `next` continues below it, so no request
 *   reads the whole table.
 * - Time bounds become bounds on ingest_seq (per topic through the (topic, received_at) index), so a range far in
 *   the past does not scan every newer row first. The received_at conditions are still applied exactly; a row
 *   whose commit lagged its receipt by more than TIME_SLACK_MS (replicas, an outage) may fall outside the window.
 */

/** Rows one page reads at most when it checks conditions row by row (a few ms of work). */
export const SCAN_ROWS = 1_000;
/** Rows the GIN index may propose for one page; more means a common value, which the ordered scan serves. */
export const GIN_CANDIDATES = 2_000;
/** The first rows read before the GIN index is asked (a common value fills the page from them). */
export const PROBE_ROWS = 200;
/** The share of the probe's rows matching above which the GIN index is not asked: too common for its cap. */
export const GIN_SKIP_RATE = 0.01;
export const TIME_SLACK_MS = 5_000;

export interface BrowseWindow {
  /** Only this topic (the topic page); undefined = every topic (search). */
  topic?: string;
  filter: Filter;
  /** received_at ≥ from. */
  from?: Date;
  /** received_at < to. */
  to?: Date;
  /** Older than this ingest_seq (a cursor). */
  before?: bigint;
  /** Newer than this ingest_seq: the page just above a view (newest first), for "N new — show". */
  after?: bigint;
  /** Start at the newest row received at or before this time. */
  atTime?: Date;
  /** Start at the newest row whose broker sequence is at most this (needs `topic`). */
  atSequence?: string;
  /** Start at this message (inclusive). */
  atId?: string;
  limit: number;
  /** Rows a page checks row by row at most before it ends early (default SCAN_ROWS). */
  scanRows?: number;
  /** Candidates the GIN index may propose at most (default GIN_CANDIDATES). */
  ginCandidates?: number;
}

export interface BrowseRow {
  id: string;
  topic: string;
  type: string;
  source: string;
  subject: string | null;
  time: string;
  ordering_key: string | null;
  size: number;
  received_at: Date;
  replay_of: string | null;
  sequence: string | null;
  preview: string | null;
  ingest_seq: string;
}

export interface BrowseResult {
  /** Newest first. */
  rows: BrowseRow[];
  /** Continue in the same direction (before or after) from here; null when there is no more. */
  next: bigint | null;
  /** The top of this view: rows newer than it are "new" (null when unknown). */
  top: bigint | null;
  /** Set when the page ended before `limit` rows because of the scan bound: received_at of the last row looked at. */
  searchedTo: Date | null;
}

/** Characters of data shown in a row (the data preview column). */
export const PREVIEW_CHARS = 160;
const COLUMNS = `id, topic, type, source, subject, time, ordering_key, size, received_at, replay_of, sequence::text AS sequence,
  left(data_text, ${PREVIEW_CHARS}) AS preview, ingest_seq`;

/** Thrown for a start position that names nothing (an unknown atId). */
export class StartNotFoundError extends Error {}

export async function browseWindow(db: pg.Pool, w: BrowseWindow): Promise<BrowseResult> {
  const bounds = await windowBounds(db, w);
  const newer = w.after !== undefined;
  const order = newer ? "ASC" : "DESC";
  const top = newer ? null : bounds.below !== null ? bounds.below - 1n : await newestSeq(db);
  const limit = w.limit;

  /** A query's parameters and conditions (each query numbers its own from $1); `beyond`: past this ingest_seq. */
  const statement = (beyond?: bigint) => {
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const sql = filterSql(w.filter, param);
    const seek = [...sql.seek];
    if (w.topic !== undefined) seek.push(`topic = ${param(w.topic)}`);
    if (w.from) seek.push(`received_at >= ${param(w.from)}`);
    if (w.to) seek.push(`received_at < ${param(w.to)}`);
    if (bounds.below !== null) seek.push(`ingest_seq < ${param(bounds.below.toString())}::bigint`);
    if (bounds.atLeast !== null) seek.push(`ingest_seq >= ${param(bounds.atLeast.toString())}::bigint`);
    if (newer) seek.push(`ingest_seq > ${param(w.after!.toString())}::bigint`);
    if (beyond !== undefined) seek.push(`ingest_seq ${newer ? ">" : "<"} ${param(beyond.toString())}::bigint`);
    // The containment terms are implied by the residual ones: checked along with them (cheap), and the GIN
    // index can serve them.
    const check = [...sql.containment, ...sql.residual];
    return { params, param, seek, check, containment: sql.containment, rowByRow: sql.residual.length > 0 };
  };
  const where = (conditions: string[]) => (conditions.length > 0 ? ` WHERE ${conditions.join(" AND ")}` : "");

  const finish = (rows: BrowseRow[], next: bigint | null, searchedTo: Date | null): BrowseResult => ({
    rows: newer ? rows.reverse() : rows,
    next,
    top: top !== null && top > 0n ? top : null,
    searchedTo,
  });

  const plain = statement();
  if (!plain.rowByRow) {
    const { rows } = await db.query<BrowseRow>(
      `SELECT ${COLUMNS} FROM messages${where([...plain.seek, ...plain.check])} ORDER BY ingest_seq ${order} LIMIT ${plain.param(limit + 1)}`,
      plain.params,
    );
    const page = rows.slice(0, limit);
    return finish(page, rows.length > limit ? BigInt(page.at(-1)!.ingest_seq) : null, null);
  }

  const scanRows = w.scanRows ?? SCAN_ROWS;
  const probeRows = plain.containment.length > 0 ? Math.min(PROBE_ROWS, scanRows) : scanRows;
  const probe = await scanInOrder(db, plain, order, probeRows, limit);
  if (probe.hits.length > limit) return finish(probe.hits.slice(0, limit), BigInt(probe.hits[limit - 1]!.ingest_seq), null);
  if (!probe.last) return finish(probe.hits, null, null);

  if (plain.containment.length > 0 && probe.hits.length < Math.max(1, probeRows * GIN_SKIP_RATE)) {
    const exact = await fromGin(db, statement(), order, limit, w.ginCandidates ?? GIN_CANDIDATES);
    if (exact) return finish(exact.rows, exact.next, null);
  }
  let { hits, last } = probe;
  if (probeRows < scanRows) {
    const rest = await scanInOrder(db, statement(BigInt(last.ingest_seq)), order, scanRows - probeRows, limit - hits.length);
    hits = [...hits, ...rest.hits];
    if (hits.length > limit) return finish(hits.slice(0, limit), BigInt(hits[limit - 1]!.ingest_seq), null);
    if (!rest.last) return finish(hits, null, null);
    last = rest.last;
  }
  return finish(hits, BigInt(last.ingest_seq), last.received_at);
}

/**
 * At most `rows` rows of the window in order, checked: the matching ones (at most `limit` + 1) and, when all
 * `rows` were read, the last of them (where the next read starts); `last` undefined when the window ended first.
 */
async function scanInOrder(
  db: pg.Pool,
  q: { params: unknown[]; param: (v: unknown) => string; seek: string[]; check: string[] },
  order: "ASC" | "DESC",
  rows: number,
  limit: number,
): Promise<{ hits: BrowseRow[]; last: BrowseRow | undefined }> {
  const scanLimit = q.param(rows);
  const where = q.seek.length > 0 ? ` WHERE ${q.seek.join(" AND ")}` : "";
  const scanned = await db.query<BrowseRow & { hit: boolean; rn: string }>(
    `SELECT * FROM (
       SELECT ${COLUMNS}, (${q.check.join(" AND ")}) AS hit, row_number() OVER (ORDER BY ingest_seq ${order}) AS rn
         FROM messages${where} ORDER BY ingest_seq ${order} LIMIT ${scanLimit}
     ) w WHERE hit OR rn = ${scanLimit} LIMIT ${q.param(limit + 2)}`,
    q.params,
  );
  const last = scanned.rows.find((r) => Number(r.rn) === rows);
  return { hits: scanned.rows.filter((r) => r.hit).map(stripScan), last: last && stripScan(last) };
}

/**
 * The page from the GIN index: every row of the window that the containment terms select, at most `cap` (more:
 * null, the caller scans instead), checked, newest first. Bitmap scans only (SET LOCAL in its own transaction).
 */
async function fromGin(
  db: pg.Pool,
  q: { params: unknown[]; param: (v: unknown) => string; seek: string[]; check: string[]; containment: string[] },
  order: "ASC" | "DESC",
  limit: number,
  cap: number,
): Promise<{ rows: BrowseRow[]; next: bigint | null } | null> {
  // Always one row at least: the number of candidates, with the page's rows (or nulls) beside it.
  const sql = `WITH candidates AS MATERIALIZED (
      SELECT ${COLUMNS}, (${q.check.join(" AND ")}) AS hit FROM messages WHERE ${[...q.seek, ...q.containment].join(" AND ")}
       LIMIT ${q.param(cap + 1)})
    SELECT n.total AS candidates, page.* FROM (SELECT count(*) AS total FROM candidates) n
      LEFT JOIN LATERAL (SELECT * FROM candidates WHERE hit ORDER BY ingest_seq ${order} LIMIT ${q.param(limit + 1)}) page ON true`;
  const client = await db.connect();
  let result: pg.QueryResult<BrowseRow & { hit: boolean; candidates: string }>;
  try {
    await client.query("BEGIN READ ONLY; SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = off");
    result = await client.query(sql, q.params);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
  if (Number(result.rows[0]?.candidates ?? 0) > cap) return null;
  const rows = result.rows.filter((r) => r.id !== null).map(({ candidates: _c, ...row }) => stripScan(row));
  const page = rows.slice(0, limit);
  return { rows: page, next: rows.length > limit ? BigInt(page.at(-1)!.ingest_seq) : null };
}

function stripScan(row: BrowseRow & { hit?: boolean; rn?: string }): BrowseRow {
  const { hit: _hit, rn: _rn, ...rest } = row;
  return rest;
}

async function newestSeq(db: pg.Pool): Promise<bigint | null> {
  const { rows } = await db.query<{ s: string | null }>("SELECT max(ingest_seq)::text AS s FROM messages");
  return rows[0]?.s ? BigInt(rows[0].s) : null;
}

/**
 * The window's bounds on ingest_seq: `below` (exclusive) from the cursor, a start position or `to`; `atLeast`
 * (inclusive) from `from`. Time bounds are looked up per topic through (topic, received_at) and widened by
 * TIME_SLACK_MS; the exact received_at conditions are applied by the query itself.
 */
async function windowBounds(db: pg.Pool, w: BrowseWindow): Promise<{ below: bigint | null; atLeast: bigint | null }> {
  const uppers: bigint[] = [];
  if (w.before !== undefined) uppers.push(w.before);
  if (w.atId !== undefined) {
    const { rows } = await db.query<{ s: string }>("SELECT ingest_seq::text AS s FROM messages WHERE id = $1", [w.atId]);
    if (!rows[0]) throw new StartNotFoundError(`message ${w.atId} is not in history`);
    uppers.push(BigInt(rows[0].s) + 1n);
  }
  if (w.atSequence !== undefined && w.topic !== undefined) {
    const { rows } = await db.query<{ s: string }>(
      `SELECT ingest_seq::text AS s FROM messages WHERE topic = $1 AND sequence IS NOT NULL AND sequence <= $2::bigint
        ORDER BY sequence DESC LIMIT 1`,
      [w.topic, w.atSequence],
    );
    uppers.push(rows[0] ? BigInt(rows[0].s) + 1n : 1n);
  }
  if (w.atTime) uppers.push(await timeBound(db, w.topic, "upper", w.atTime, 1));
  if (w.to) uppers.push(await timeBound(db, w.topic, "upper", w.to, TIME_SLACK_MS));
  const atLeast = w.from ? await timeBound(db, w.topic, "lower", w.from, TIME_SLACK_MS) : null;
  return { below: uppers.length > 0 ? uppers.reduce((a, b) => (a < b ? a : b)) : null, atLeast };
}

/**
 * upper: one past the newest ingest_seq among rows received before `at + slack` (1 when there are none);
 * lower: the oldest ingest_seq among rows received at or after `at − slack` (past the newest row when none).
 * Per topic (every topic that has history when `topic` is not given), each one probe of (topic, received_at).
 */
async function timeBound(db: pg.Pool, topic: string | undefined, side: "upper" | "lower", at: Date, slackMs: number): Promise<bigint> {
  const scope = topic === undefined ? "SELECT topic FROM topic_stats" : "SELECT $2::text AS topic";
  const probe =
    side === "upper"
      ? `SELECT m.ingest_seq FROM messages m WHERE m.topic = t.topic AND m.received_at < $1 ORDER BY m.received_at DESC LIMIT 1`
      : `SELECT m.ingest_seq FROM messages m WHERE m.topic = t.topic AND m.received_at >= $1 ORDER BY m.received_at ASC LIMIT 1`;
  const edge = new Date(at.getTime() + (side === "upper" ? slackMs : -slackMs));
  const { rows } = await db.query<{ s: string | null }>(
    `SELECT ${side === "upper" ? "max" : "min"}((${probe}))::text AS s FROM (${scope}) t`,
    topic === undefined ? [edge] : [edge, topic],
  );
  const found = rows[0]?.s;
  if (side === "upper") return found ? BigInt(found) + 1n : 1n;
  return found ? BigInt(found) : ((await newestSeq(db)) ?? 0n) + 1n;
}
