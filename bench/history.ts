/**
 * History benchmark (`npm run bench:history`): not a test, figures only.
 *
 * 1. Ingest: 100k messages with 200-byte data published on the in-process bus and recorded by the Recorder
 *    (each insert method), against a raw COPY of the same rows into an identical table (same indexes), in
 *    the same run. Ratio = recorder rows/s ÷ raw COPY rows/s (target ≥ 0.6 for the default method).
 * 2. Browse: browseMessages() on 1M rows, p50/p95 of the first page and of a deep keyset page (half-way),
 *    unfiltered and filtered by topic (target p95 < 20 ms).
 *
 * Uses a dedicated schema (bench_history_<random>) in BENCH_DATABASE_URL / DATABASE_URL / the local `test`
 * database, created with the project's migrations and dropped at the end. Ends with one line per figure:
 *   ratio: <name> <value> (target <t>)      ms: <name> <value> (target <t>)
 */
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import path from "node:path";
import pg from "pg";
import { createMessage, newId, openTopic, type Message } from "@/server/whisper";
import { closeDb, createPool, db } from "@/server/db";
import { Recorder } from "@/server/history/recorder";
import { copyInto } from "@/server/history/writer";
import { messageRow } from "@/server/history/rows";
import { browseMessages, encodeCursor } from "@/server/services/messages";
import type { InsertMethod } from "@/server/history/writer";

const INGEST_MESSAGES = Number(process.env.BENCH_INGEST ?? 100_000);
const BROWSE_ROWS = Number(process.env.BENCH_BROWSE_ROWS ?? 1_000_000);
const BROWSE_ITERATIONS = 300;
const ROOT = path.resolve(import.meta.dirname, "..");
const base = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL?.replace(/[?&]schema=[^&]*/, "") ?? "postgresql://postgres@127.0.0.1:5432/test";
const schema = `bench_history_${randomBytes(4).toString("hex")}`;
const url = (() => {
  const u = new URL(base);
  u.searchParams.set("schema", schema);
  return u.href;
})();

const figures: string[] = [];
const log = (line: string) => console.log(line);

function migrate(): void {
  execFileSync(process.execPath, [path.join(ROOT, "scripts", "prisma-cli.mjs"), "migrate", "deploy"], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url },
    stdio: "ignore",
  });
}

/** A message whose data (JSON) is exactly 200 bytes. */
function benchMessage(i: number): Message {
  const head = JSON.stringify({ n: i, pad: "" });
  return createMessage({ source: "/bench", type: "bench.ingest", data: { n: i, pad: "x".repeat(200 - head.length) } });
}

async function resetTables(pool: pg.Pool): Promise<void> {
  await pool.query("TRUNCATE messages, copy_baseline, topic_stats, topic_minutes");
  await pool.query("CHECKPOINT").catch(() => {}); // keep background flushing of one run out of the next
}

/** Raw COPY of `messages` (already built rows, text encoding included) into copy_baseline. Rows/s. */
async function rawCopy(pool: pg.Pool, messages: Message[]): Promise<number> {
  const now = new Date();
  const rows = messages.map((m) => messageRow(m, "bench", now));
  const client = await pool.connect();
  try {
    const started = performance.now();
    await client.query("BEGIN");
    await copyInto(client, "copy_baseline", rows);
    await client.query("COMMIT");
    return rows.length / ((performance.now() - started) / 1000);
  } finally {
    client.release();
  }
}

/** Publishes `messages` on the bus and waits until the recorder committed them all. Rows/s end to end. */
async function recorderIngest(pool: pg.Pool, messages: Message[], method: InsertMethod): Promise<number> {
  const bus = `bench-${newId()}`;
  const topicUrl = `eventbus:bench?bus=${bus}`;
  let recorded = 0;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const recorder = new Recorder({
    pool,
    method,
    onRecorded: (_t, s) => {
      recorded += s.length;
      if (recorded >= messages.length) finished();
    },
    onError: (e, c) => console.error(`recorder ${c.what}:`, e),
  });
  await recorder.watch("bench", topicUrl);
  // Room for every message: the publisher must not block on its own flow control (that is not what is
  // measured here, and the core's blocked-publisher queue is slow with tens of thousands waiting).
  const topic = await openTopic(topicUrl, {
    flowControl: { maxOutstandingMessages: messages.length + 1, maxOutstandingBytes: 1 << 30 },
  });
  const started = performance.now();
  for (const m of messages) void topic.publish(m);
  await done;
  const elapsed = performance.now() - started;
  await topic.close();
  await recorder.close();
  return messages.length / (elapsed / 1000);
}

async function ingest(pool: pg.Pool): Promise<void> {
  await pool.query("CREATE TABLE copy_baseline (LIKE messages INCLUDING ALL)");
  const messages = Array.from({ length: INGEST_MESSAGES }, (_, i) => benchMessage(i));
  log(`ingest: ${messages.length} messages, ${messages[0]!.body!.length} bytes of data each`);

  // Warm-up (JIT, connections, caches), not measured.
  await resetTables(pool);
  await rawCopy(pool, messages.slice(0, 10_000));
  await recorderIngest(pool, messages.slice(0, 10_000), "copy");

  const copyRates: number[] = [];
  const rates = new Map<InsertMethod, number>();
  const runCopy = async () => {
    await resetTables(pool);
    copyRates.push(await rawCopy(pool, messages));
    log(`  raw COPY            ${Math.round(copyRates.at(-1)!)} rows/s`);
  };
  await runCopy();
  for (const method of ["copy", "staging", "unnest"] as const) {
    await resetTables(pool);
    rates.set(method, await recorderIngest(pool, messages, method));
    log(`  recorder ${method.padEnd(10)} ${Math.round(rates.get(method)!)} rows/s`);
  }
  await runCopy();
  const baseline = copyRates.reduce((a, b) => a + b, 0) / copyRates.length;
  for (const [method, rate] of rates) {
    const ratio = rate / baseline;
    figures.push(`ratio: recorder-${method}-vs-raw-copy ${ratio.toFixed(2)} (target 0.6)`);
  }
  await pool.query("DROP TABLE copy_baseline");
}

async function fillForBrowse(pool: pg.Pool): Promise<void> {
  await pool.query("TRUNCATE messages, topic_stats, topic_minutes");
  const started = performance.now();
  const chunk = 250_000;
  for (let from = 1; from <= BROWSE_ROWS; from += chunk) {
    const to = Math.min(BROWSE_ROWS, from + chunk - 1);
    // 10 topics, 7 types, a third keyed; two rows per millisecond so (received_at, id) ties are common.
    await pool.query(
      `INSERT INTO messages (id, topic, source, type, specversion, time, datacontenttype, extensions, data_text, size,
                             ordering_key, received_at)
       SELECT 'b' || lpad(g::text, 9, '0'), 'topic-' || (g % 10), '/bench/' || (g % 3), 'bench.type.' || (g % 7), '1.0',
              to_char(timestamptz '2026-01-01' + (g / 2) * interval '1 millisecond', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
              'application/json', '{}', '{"n":' || g || ',"pad":"' || repeat('x', 180) || '"}', 200,
              CASE WHEN g % 3 = 0 THEN 'key-' || (g % 100) END,
              timestamptz '2026-01-01' + (g / 2) * interval '1 millisecond'
         FROM generate_series($1::int, $2::int) AS g`,
      [from, to],
    );
  }
  await pool.query("VACUUM ANALYZE messages");
  log(`browse: ${BROWSE_ROWS} rows loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function timeBrowse(name: string, filter: Parameters<typeof browseMessages>[0]): Promise<void> {
  for (let i = 0; i < 20; i++) await browseMessages(filter);
  const samples: number[] = [];
  for (let i = 0; i < BROWSE_ITERATIONS; i++) {
    const started = performance.now();
    const page = await browseMessages(filter);
    samples.push(performance.now() - started);
    if (page.items.length === 0) throw new Error(`${name}: empty page`);
  }
  samples.sort((a, b) => a - b);
  const p50 = percentile(samples, 50);
  const p95 = percentile(samples, 95);
  log(`  ${name.padEnd(28)} p50 ${p50.toFixed(2)} ms  p95 ${p95.toFixed(2)} ms`);
  figures.push(`ms: ${name}-p50 ${p50.toFixed(2)} (target 20)`);
  figures.push(`ms: ${name}-p95 ${p95.toFixed(2)} (target 20)`);
}

async function browse(pool: pg.Pool): Promise<void> {
  await fillForBrowse(pool);
  process.env.DATABASE_URL = url;
  db(); // open the service layer's pool before timing
  /** The cursor half-way through the rows matching `where`: a deep keyset page. */
  const deep = async (where: string, params: unknown[]) => {
    const { rows: counted } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM messages ${where}`, params);
    const offset = Math.floor(Number(counted[0]!.n) / 2);
    const { rows } = await pool.query<{ received_at: Date; id: string }>(
      `SELECT received_at, id FROM messages ${where} ORDER BY received_at DESC, id DESC OFFSET ${offset} LIMIT 1`,
      params,
    );
    return encodeCursor(rows[0]!.received_at, rows[0]!.id);
  };
  await timeBrowse("browse-first-page", { limit: 50 });
  await timeBrowse("browse-deep-page", { limit: 50, cursor: await deep("", []) });
  await timeBrowse("browse-topic-first-page", { topic: "topic-3", limit: 50 });
  await timeBrowse("browse-topic-deep-page", { topic: "topic-3", limit: 50, cursor: await deep("WHERE topic = $1", ["topic-3"]) });
  await timeBrowse("browse-topic-type-deep-page", {
    topic: "topic-3",
    type: "bench.type.3",
    limit: 50,
    cursor: await deep("WHERE topic = $1 AND type = $2", ["topic-3", "bench.type.3"]),
  });
}

async function main(): Promise<void> {
  log(`schema ${schema} in ${new URL(base).host}${new URL(base).pathname}`);
  migrate();
  const pool = createPool(url, { max: 6 });
  try {
    await ingest(pool);
    await browse(pool);
  } finally {
    await closeDb();
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`).catch((e) => console.error("drop schema:", e));
    await pool.end();
  }
  for (const line of figures) log(line);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
