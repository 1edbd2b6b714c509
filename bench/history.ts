/**
 * History benchmark (`npm run bench:history`): not a test, figures only. Each figure is measured against a
 * baseline taken in the same run on the same machine (2 shared cores here: quote the ratios).
 *
 * 1. pipeline: a JetStream stream preloaded with BENCH_MESSAGES (200k) CloudEvents of 200 bytes of JSON data is
 *    recorded into Postgres by the Recorder (a durable consumer, ack after commit), from its first message
 *    to its last row committed. Baselines: a raw durable consume + ack of the same stream (@nats-io/jetstream,
 *    no decoding) and a raw COPY of the same rows (built beforehand) into an identical table.
 *      ratio: recorder-pipeline-vs-raw = recorder rows/s ÷ the slower baseline (target ≥ 0.6)
 * 2. lag: BENCH_LAG_RATE (5k) events/s published for BENCH_LAG_SECONDS (20 s) through the core's JetStream topic
 *    while the Recorder records them; lag = commit seen by onRecorded − publish() called, per event.
 *      ms: history-lag-p95 (target < 2000)
 * 3. browse: browseMessages() on BENCH_BROWSE_ROWS (1M; set 10000000 for the 10M figure) rows loaded by one
 *    INSERT … SELECT generate_series (load time printed), p50/p95 of first and deep keyset pages, unfiltered
 *    and filtered by attributes, and with the filter language's data fields and prefixes (data.customer = "c-42":
 *    0.1% of the rows, answered by the GIN index; data.status = "paid": a third; data.total > 900 / > 998: 10% /
 *    0.1%, checked row by row, the rare one ending pages at the scan bound; text; across all topics)
 *    (target p95 < 20 ms).
 *
 * BENCH_PHASES=pipeline,lag,browse picks phases. Uses a dedicated schema (BENCH_SCHEMA_PREFIX, default bench_history, + _<random>) in
 * BENCH_DATABASE_URL / DATABASE_URL / the local `test` database, created with the project's migrations and dropped
 * at the end, and streams named BENCH_HIST_* on BENCH_NATS (127.0.0.1:4222), deleted at the end.
 * Ends with one line per figure:   ratio: <name> <value> (target <t>)      ms: <name> <value> (target <t>)
 */
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import path from "node:path";
import pg from "pg";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { createMessage, openTopic, type Message } from "@whisper/core";
import { closeDb, createPool, db } from "@/server/db";
import { Recorder, type RecorderOptions } from "@/server/history/recorder";
import { copyInto } from "@/server/history/writer";
import { messageRow } from "@/server/history/rows";
import { browseMessages, encodeCursor } from "@/server/services/messages";
import type { MessageSummary } from "@/server/services/types";
import { rawDurableConsume } from "./jetstream-baseline";

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 200_000);
const LAG_RATE = Number(process.env.BENCH_LAG_RATE ?? 5_000);
const LAG_SECONDS = Number(process.env.BENCH_LAG_SECONDS ?? 20);
const BROWSE_ROWS = Number(process.env.BENCH_BROWSE_ROWS ?? 1_000_000);
const PHASES = new Set((process.env.BENCH_PHASES ?? "pipeline,lag,browse").split(",").map((p) => p.trim()));
const BROWSE_ITERATIONS = 300;
const NATS = process.env.BENCH_NATS ?? "127.0.0.1:4222";
const ROOT = path.resolve(import.meta.dirname, "..");
const base = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL?.replace(/[?&]schema=[^&]*/, "") ?? "postgresql://postgres@127.0.0.1:5432/test";
const run = randomBytes(4).toString("hex");
const schema = `${process.env.BENCH_SCHEMA_PREFIX ?? "bench_history"}_${run}`;
const url = (() => {
  const u = new URL(base);
  u.searchParams.set("schema", schema);
  return u.href;
})();
/** Recorder settings under test (BENCH_RECORDER='{"batchSize":2000}' to try others). */
const recorderSettings: Partial<RecorderOptions> = JSON.parse(process.env.BENCH_RECORDER ?? "{}");

const figures: string[] = [];
const streams: string[] = [];
const log = (line: string) => console.log(line);
const perSecond = (n: number, ms: number) => n / (ms / 1000);

function migrate(): void {
  execFileSync(process.execPath, [path.join(ROOT, "scripts", "prisma-cli.mjs"), "migrate", "deploy"], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url },
    stdio: "ignore",
  });
}

/** A message whose data (JSON) is exactly 200 bytes; one in 7 ordering keys. */
function benchMessage(i: number): Message {
  const head = JSON.stringify({ n: i, pad: "" });
  return createMessage({
    source: "/bench",
    type: "bench.ingest",
    orderingKey: `k${i % 7}`,
    data: { n: i, pad: "x".repeat(200 - head.length) },
  });
}

function jetstreamUrl(stream: string, subject: string): string {
  return `jetstream://${NATS}/${subject}?stream=${stream}`;
}

/** Publishes `messages` to a new stream through the core's JetStream topic; resolves once all are stored. */
async function preload(stream: string, subject: string, messages: Message[]): Promise<number> {
  streams.push(stream);
  const topic = await openTopic(jetstreamUrl(stream, subject), {
    ordering: true,
    flowControl: { maxOutstandingMessages: 20_000, maxOutstandingBytes: 1 << 30 },
  });
  try {
    const started = performance.now();
    const pending: Promise<string>[] = [];
    for (const m of messages) pending.push(topic.publish(m).get());
    await Promise.all(pending);
    return perSecond(messages.length, performance.now() - started);
  } finally {
    await topic.close();
  }
}

/** Raw baseline: one COPY of the already built rows into `table` (default copy_baseline: messages' columns and indexes). Rows/s. */
async function rawCopy(pool: pg.Pool, messages: Message[], table = "copy_baseline"): Promise<number> {
  const now = new Date();
  const rows = messages.map((m, i) => messageRow(m, "bench", now, i + 1));
  const client = await pool.connect();
  try {
    const started = performance.now();
    await client.query("BEGIN");
    await copyInto(client, table, rows);
    await client.query("COMMIT");
    return perSecond(rows.length, performance.now() - started);
  } finally {
    client.release();
  }
}

/** The Recorder under test (BENCH_RECORDER settings) and a promise that resolves once `count` rows were recorded. */
function benchRecorder(pool: pg.Pool, count: number, onRecorded: (summaries: MessageSummary[]) => void = () => {}, name = `bench-${run}`) {
  let recorded = 0;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const recorder = new Recorder({
    ...recorderSettings,
    pool,
    subscriptionName: name,
    onRecorded: (_t, summaries) => {
      onRecorded(summaries);
      recorded += summaries.length;
      if (recorded >= count) finished();
    },
    onError: (e, c) => console.error(`recorder ${c.what}:`, e),
  });
  return { recorder, done };
}

/** The Recorder on a preloaded stream: rows/s from watch() to the last row committed. */
async function recorderPipeline(pool: pg.Pool, stream: string, subject: string, count: number, name?: string): Promise<number> {
  const { recorder, done } = benchRecorder(pool, count, undefined, name);
  const started = performance.now();
  await recorder.watch(subject, jetstreamUrl(stream, subject));
  await done;
  const rate = perSecond(count, performance.now() - started);
  const stats = recorder.stats()[0]!;
  log(`  (recorder: ${stats.recorded} recorded, ${stats.duplicates} duplicates, ${stats.retries} retries)`);
  await recorder.close();
  return rate;
}

async function pipeline(pool: pg.Pool, nc: NatsConnection): Promise<void> {
  const messages = Array.from({ length: MESSAGES }, (_, i) => benchMessage(i));
  const stream = `BENCH_HIST_${run}`;
  const subject = `bench.hist.${run}`;
  log(`pipeline: ${messages.length} messages, ${messages[0]!.body!.length} bytes of data each`);
  log(`  preload (core JetStream publish) ${Math.round(await preload(stream, subject, messages))} msgs/s`);
  // Baselines before and after the recorder (the machine is shared: the mean of the two evens out drift).
  const consumes: number[] = [];
  const copies: number[] = [];
  const plainCopies: number[] = [];
  const baselines = async (round: number) => {
    consumes.push(await rawDurableConsume(nc, stream, subject, messages.length, `raw-${run}-${round}`));
    log(`  raw consume + ack   ${Math.round(consumes.at(-1)!)} msgs/s`);
    await pool.query("CREATE TABLE copy_baseline (LIKE messages INCLUDING ALL)");
    await pool.query("CHECKPOINT").catch(() => {});
    copies.push(await rawCopy(pool, messages));
    log(`  raw COPY            ${Math.round(copies.at(-1)!)} rows/s`);
    await pool.query("DROP TABLE copy_baseline");
    await pool.query("CHECKPOINT").catch(() => {});
    // What searching costs ingest: the same COPY into the table as it was before the search migration (data_json a
    // plain column nobody fills, the btree indexes of that schema, no GIN, no prefix/sequence indexes).
    await pool.query("CREATE TABLE copy_plain (LIKE messages INCLUDING DEFAULTS INCLUDING CONSTRAINTS)");
    await pool.query("ALTER TABLE copy_plain ADD PRIMARY KEY (id)");
    for (const columns of ["ingest_seq", "topic, ingest_seq", "topic, type, ingest_seq", "topic, ordering_key, ingest_seq", "topic, received_at"]) {
      await pool.query(`CREATE ${columns === "ingest_seq" ? "UNIQUE " : ""}INDEX ON copy_plain (${columns})`);
    }
    await pool.query("CHECKPOINT").catch(() => {});
    plainCopies.push(await rawCopy(pool, messages, "copy_plain"));
    log(`  raw COPY, no search ${Math.round(plainCopies.at(-1)!)} rows/s (the schema before data_json and its indexes)`);
    await pool.query("DROP TABLE copy_plain");
    await pool.query("CHECKPOINT").catch(() => {});
  };
  // Warm-up, not counted: the first read of a fresh stream comes from disk, every later one from the page cache.
  await rawDurableConsume(nc, stream, subject, messages.length, `raw-${run}-0`);
  await baselines(1);
  const recorder = await recorderPipeline(pool, stream, subject, messages.length);
  log(`  recorder pipeline   ${Math.round(recorder)} rows/s`);
  await baselines(2);
  // The same recorder on the schema before the search migration (no data_json, no search indexes), same stream.
  const plain = await plainSchema(pool);
  const recorderPlain = await recorderPipeline(plain.pool, stream, subject, messages.length, `bench-${run}-plain`);
  log(`  recorder, no search ${Math.round(recorderPlain)} rows/s (the schema before data_json and its indexes)`);
  await plain.drop();
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const consume = mean(consumes);
  const copy = mean(copies);
  const slower = Math.min(consume, copy);
  figures.push(`ratio: recorder-pipeline-vs-raw ${(recorder / slower).toFixed(2)} (target 0.6; raw = ${consume <= copy ? "consume+ack" : "COPY"})`);
  figures.push(`ratio: recorder-pipeline-vs-raw-consume ${(recorder / consume).toFixed(2)} (informational)`);
  figures.push(`ratio: recorder-pipeline-vs-raw-copy ${(recorder / copy).toFixed(2)} (informational)`);
  figures.push(`ratio: copy-with-search-vs-without ${(copy / mean(plainCopies)).toFixed(2)} (informational: what data_json and the search indexes cost ingest)`);
  figures.push(`ratio: recorder-with-search-vs-without ${(recorder / recorderPlain).toFixed(2)} (informational: the same, end to end)`);
  await pool.query("TRUNCATE messages, topic_stats, topic_minutes");
}

/**
 * `<schema>_plain`: the recorder's tables as they were before the search migration (messages without data_json,
 * its btree indexes of then), sharing the ingest sequence; a pool whose search_path is that schema.
 */
async function plainSchema(pool: pg.Pool): Promise<{ pool: pg.Pool; drop(): Promise<void> }> {
  const plain = `${schema}_plain`;
  await pool.query(`CREATE SCHEMA "${plain}"`);
  for (const table of ["topics", "subscriptions", "topic_stats", "topic_minutes"]) {
    await pool.query(`CREATE TABLE "${plain}"."${table}" (LIKE "${schema}"."${table}" INCLUDING ALL)`);
  }
  await pool.query(`CREATE TABLE "${plain}".messages (LIKE "${schema}".messages INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
  await pool.query(`ALTER TABLE "${plain}".messages DROP COLUMN data_json, ADD PRIMARY KEY (id)`);
  for (const columns of ["ingest_seq", "topic, ingest_seq", "topic, type, ingest_seq", "topic, ordering_key, ingest_seq", "topic, received_at"]) {
    await pool.query(`CREATE ${columns === "ingest_seq" ? "UNIQUE " : ""}INDEX ON "${plain}".messages (${columns})`);
  }
  const u = new URL(url);
  u.searchParams.set("schema", plain);
  const plainPool = createPool(u.href, { max: 8 });
  return {
    pool: plainPool,
    async drop() {
      await plainPool.end();
      await pool.query(`DROP SCHEMA "${plain}" CASCADE`);
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Steady LAG_RATE events/s for LAG_SECONDS through the core topic while the Recorder records them. */
async function lag(pool: pg.Pool): Promise<void> {
  const stream = `BENCH_HIST_LAG_${run}`;
  const subject = `bench.lag.${run}`;
  streams.push(stream);
  const total = LAG_RATE * LAG_SECONDS;
  const publishedAt = new Map<string, number>();
  const lags: number[] = [];
  const { recorder, done } = benchRecorder(pool, total, (summaries) => {
    const now = performance.now();
    for (const s of summaries) {
      const at = publishedAt.get(s.id);
      if (at !== undefined) lags.push(now - at);
    }
  });
  const topic = await openTopic(jetstreamUrl(stream, subject), { ordering: true });
  await recorder.watch(subject, jetstreamUrl(stream, subject));
  log(`lag: ${LAG_RATE} events/s for ${LAG_SECONDS} s (${total} events)`);
  const started = performance.now();
  let sent = 0;
  const failures: unknown[] = [];
  // Every 10 ms, publish what the steady rate owes by now (catches up after a late timer, never bursts ahead).
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const owed = Math.min(total, Math.floor(((performance.now() - started) / 1000) * LAG_RATE));
      for (; sent < owed; sent++) {
        const m = benchMessage(sent);
        publishedAt.set(m.id, performance.now());
        topic.publish(m).get().catch((e: unknown) => failures.push(e));
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 10);
  });
  const publishSeconds = (performance.now() - started) / 1000;
  await done;
  await topic.close();
  await recorder.close();
  if (failures.length > 0) log(`  ${failures.length} publishes failed, e.g. ${String(failures[0])}`);
  lags.sort((a, b) => a - b);
  log(`  published in ${publishSeconds.toFixed(1)} s; lag p50 ${percentile(lags, 50).toFixed(0)} ms, p95 ${percentile(lags, 95).toFixed(0)} ms, max ${lags.at(-1)!.toFixed(0)} ms`);
  figures.push(`ms: history-lag-p95 ${percentile(lags, 95).toFixed(0)} (target 2000)`);
  await pool.query("TRUNCATE messages, topic_stats, topic_minutes");
}

async function fillForBrowse(pool: pg.Pool): Promise<void> {
  await pool.query("TRUNCATE messages, topic_stats, topic_minutes");
  const started = performance.now();
  // One INSERT … SELECT: 10 topics, 7 types, a third keyed; two rows per millisecond; ingest_seq = g.
  await pool.query(
    `INSERT INTO messages (id, topic, source, type, specversion, time, datacontenttype, extensions, data_text, size,
                           ordering_key, received_at, ingest_seq)
     SELECT 'b' || lpad(g::text, 9, '0'), 'topic-' || (g % 10), '/bench/' || (g % 3), 'bench.type.' || (g % 7), '1.0',
            to_char(timestamptz '2026-01-01' + (g / 2) * interval '1 millisecond', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'application/json', '{}',
            '{"n":' || g || ',"customer":"c-' || (g % 997) || '","total":' || ((g * 37) % 1000) ||
              ',"status":"' || (ARRAY['new','paid','shipped'])[g % 3 + 1] || '","pad":"' || repeat('x', 120) || '"}', 200,
            CASE WHEN g % 3 = 0 THEN 'key-' || (g % 100) END,
            timestamptz '2026-01-01' + (g / 2) * interval '1 millisecond', g
       FROM generate_series(1, $1::int) AS g`,
    [BROWSE_ROWS],
  );
  const loaded = performance.now();
  await pool.query("SELECT setval('messages_ingest_seq_seq', $1::bigint)", [BROWSE_ROWS]);
  await pool.query(
    `INSERT INTO topic_stats (topic, message_count, row_count, last_message_at, oldest_message_at)
     SELECT topic, count(*), count(*), max(received_at), min(received_at) FROM messages GROUP BY topic`,
  );
  await pool.query("VACUUM ANALYZE messages");
  log(
    `browse: ${BROWSE_ROWS} rows loaded by one INSERT … SELECT in ${((loaded - started) / 1000).toFixed(1)} s ` +
      `(+ ${((performance.now() - loaded) / 1000).toFixed(1)} s counters and VACUUM ANALYZE)`,
  );
}

/** p50/p95 of one page; `expect`: "rows" (a page must have rows), "partial" (a bounded page may be short), "none". */
async function timeBrowse(name: string, filter: Parameters<typeof browseMessages>[0], expect: "rows" | "partial" | "none" = "rows"): Promise<void> {
  for (let i = 0; i < 20; i++) await browseMessages(filter);
  const samples: number[] = [];
  let rows = 0;
  for (let i = 0; i < BROWSE_ITERATIONS; i++) {
    const started = performance.now();
    const page = await browseMessages(filter);
    samples.push(performance.now() - started);
    rows += page.items.length;
    if (expect === "rows" && page.items.length === 0) throw new Error(`${name}: empty page`);
    if (expect === "none" && page.items.length > 0) throw new Error(`${name}: expected no rows`);
    if (expect === "partial" && page.searchedTo === null && page.nextCursor !== null) throw new Error(`${name}: expected a bounded page`);
  }
  if (expect === "partial") log(`  (${name}: ${(rows / BROWSE_ITERATIONS).toFixed(1)} rows per bounded page)`);
  samples.sort((a, b) => a - b);
  const p50 = percentile(samples, 50);
  const p95 = percentile(samples, 95);
  const label = `${name}-${BROWSE_ROWS >= 1_000_000 ? `${BROWSE_ROWS / 1_000_000}m` : BROWSE_ROWS}`;
  log(`  ${label.padEnd(32)} p50 ${p50.toFixed(2)} ms  p95 ${p95.toFixed(2)} ms`);
  figures.push(`ms: ${label}-p95 ${p95.toFixed(2)} (target 20)`);
}

async function browse(pool: pg.Pool): Promise<void> {
  await fillForBrowse(pool);
  process.env.DATABASE_URL = url;
  db(); // open the service layer's pool before timing
  /** The cursor half-way through the rows matching `where`: a deep keyset page. */
  const deep = async (where: string, params: unknown[]) => {
    const { rows: counted } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM messages ${where}`, params);
    const offset = Math.floor(Number(counted[0]!.n) / 2);
    const { rows } = await pool.query<{ ingest_seq: string }>(
      `SELECT ingest_seq FROM messages ${where} ORDER BY ingest_seq DESC OFFSET ${offset} LIMIT 1`,
      params,
    );
    return encodeCursor(rows[0]!.ingest_seq);
  };
  await timeBrowse("browse-first-page", { limit: 50 });
  await timeBrowse("browse-deep-page", { limit: 50, cursor: await deep("", []) });
  await timeBrowse("browse-topic-first-page", { topic: "topic-3", limit: 50 });
  await timeBrowse("browse-topic-deep-page", { topic: "topic-3", limit: 50, cursor: await deep("WHERE topic = $1", ["topic-3"]) });
  await timeBrowse("browse-key-deep-page", {
    topic: "topic-3",
    orderingKey: "key-3",
    limit: 50,
    cursor: await deep("WHERE topic = $1 AND ordering_key = $2", ["topic-3", "key-3"]),
  });
  await timeBrowse("browse-topic-type-deep-page", {
    topic: "topic-3",
    type: "bench.type.3",
    limit: 50,
    cursor: await deep("WHERE topic = $1 AND type = $2", ["topic-3", "bench.type.3"]),
  });
  // The filter language (server/history/browse.ts): prefixes on the text_pattern_ops indexes, data fields.
  await timeBrowse("browse-type-prefix", { topic: "topic-3", filter: "type = bench.type.*", limit: 50 });
  await timeBrowse("browse-data-eq-rare", { topic: "topic-3", filter: 'data.customer = "c-42"', limit: 50 });
  await timeBrowse("browse-data-eq-rare-deep", {
    topic: "topic-3",
    filter: 'data.customer = "c-42"',
    limit: 50,
    cursor: await deep(`WHERE topic = $1 AND data_json @> '{"customer":"c-42"}'`, ["topic-3"]),
  });
  await timeBrowse("browse-data-eq-all-topics", { filter: 'data.customer = "c-42"', limit: 50 });
  await timeBrowse("browse-data-eq-common", { topic: "topic-3", filter: "data.status = paid", limit: 50 });
  await timeBrowse("browse-data-range", { topic: "topic-3", filter: "data.total > 900", limit: 50 });
  await timeBrowse("browse-data-range-rare", { topic: "topic-3", filter: "data.total > 998", limit: 50 }, "partial");
  await timeBrowse("browse-data-and-type", { topic: "topic-3", filter: "type = bench.type.3 data.total > 500 data.status != new", limit: 50 });
  await timeBrowse("browse-data-no-match", { topic: "topic-3", filter: 'data.customer = "nobody"', limit: 50 }, "none");
  await timeBrowse("browse-text-rare", { filter: '"c-996"', limit: 50 }, "partial");
}

async function main(): Promise<void> {
  log(`schema ${schema} in ${new URL(base).host}${new URL(base).pathname}; phases ${[...PHASES].join(",")}`);
  if (Object.keys(recorderSettings).length > 0) log(`recorder settings ${JSON.stringify(recorderSettings)}`);
  migrate();
  const pool = createPool(url, { max: 8 });
  const nc = await connect({ servers: NATS });
  try {
    if (PHASES.has("pipeline")) await pipeline(pool, nc);
    if (PHASES.has("lag")) await lag(pool);
    if (PHASES.has("browse")) await browse(pool);
  } finally {
    await closeDb();
    const jsm = await jetstreamManager(nc);
    for (const stream of streams) await jsm.streams.delete(stream).catch(() => {});
    await nc.close();
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`).catch((e) => console.error("drop schema:", e));
    await pool.end();
  }
  for (const line of figures) log(line);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
