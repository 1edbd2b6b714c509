/**
 * Retention benchmark (`npx tsx bench/retention.ts`): how to delete old history without stalling ingest,
 * measured on the server of BENCH_DATABASE_URL (run it on the shared PostgreSQL 15 and on the embedded
 * PostgreSQL 18 of `npm start`). Not a test: figures only.
 *
 * The same BENCH_RETENTION_ROWS rows (10 topics, spread evenly over 10 days) are loaded into
 *   A. `messages` as migrated (one table; what the recorder writes), and
 *   B. `messages_p`, the same columns and indexes partitioned by day on received_at (primary key (id,
 *      received_at): a partitioned table cannot have a unique index without the partition key);
 * then the oldest half is removed — A by Retention's batched deletes (maxAge 5 days), B by detaching and
 * dropping 5 daily partitions — while a writer keeps COPYing 1,000-row batches into the same table. Printed:
 * time to remove, rows/s, and the writer's batch latency (p50 / p99 / max) before and during.
 */
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import path from "node:path";
import type pg from "pg";
import { createMessage } from "@whisper/core";
import { createPool } from "@/server/db";
import { Retention } from "@/server/history/retention";
import { messageRow, type MessageRow } from "@/server/history/rows";
import { copyInto, insertBatch } from "@/server/history/writer";

const ROWS = Number(process.env.BENCH_RETENTION_ROWS ?? 2_000_000);
const ROOT = path.resolve(import.meta.dirname, "..");
const base = process.env.BENCH_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test";
const schema = `bench_retention_${randomBytes(4).toString("hex")}`;
const url = (() => {
  const u = new URL(base);
  u.searchParams.set("schema", schema);
  return u.href;
})();
const DAY_MS = 86_400_000;
const log = (line: string) => console.log(line);

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const describeLatency = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `p50 ${percentile(s, 50).toFixed(0)} ms, p99 ${percentile(s, 99).toFixed(0)} ms, max ${s.at(-1)?.toFixed(0)} ms (${s.length} batches)`;
};

/** Rows spread over the last 10 days, 10 topics, 200 bytes of JSON data each (one INSERT … SELECT). */
async function load(pool: pg.Pool, table: string): Promise<number> {
  const started = performance.now();
  await pool.query(
    `INSERT INTO ${table} (id, topic, source, type, specversion, time, datacontenttype, extensions, data_text, size, ordering_key, received_at)
     SELECT 'r' || lpad(g::text, 9, '0'), 'topic-' || (g % 10), '/bench', 'bench.type.' || (g % 7), '1.0', '2026-01-01T00:00:00Z',
            'application/json', '{}', '{"n":' || g || ',"pad":"' || repeat('x', 180) || '"}', 200,
            CASE WHEN g % 3 = 0 THEN 'key-' || (g % 100) END,
            now() - interval '10 days' + (g::float8 / $1) * interval '10 days' - interval '1 minute'
       FROM generate_series(1, $1::int) AS g`,
    [ROWS],
  );
  await pool.query(`VACUUM ANALYZE ${table}`);
  return (performance.now() - started) / 1000;
}

/** Writes 1,000-row batches into `table` until stopped; the latency of each. */
function writer(pool: pg.Pool, write: (client: pg.PoolClient, rows: MessageRow[]) => Promise<unknown>) {
  let running = true;
  const latencies: number[] = [];
  const done = (async () => {
    const client = await pool.connect();
    try {
      for (let b = 0; running; b++) {
        const now = new Date();
        const rows = Array.from({ length: 1000 }, (_, i) => messageRow(createMessage({ id: `w${b}-${i}-${randomBytes(4).toString("hex")}`, type: "live", data: { i } }), "live", now));
        const started = performance.now();
        await write(client, rows);
        latencies.push(performance.now() - started);
      }
    } finally {
      client.release();
    }
  })();
  return {
    /** Latencies of the batches that started since the last call. */
    take(): number[] {
      return latencies.splice(0);
    },
    async stop() {
      running = false;
      await done;
    },
  };
}

async function measure(label: string, pool: pg.Pool, write: (client: pg.PoolClient, rows: MessageRow[]) => Promise<unknown>, remove: () => Promise<number>) {
  const w = writer(pool, write);
  await new Promise((r) => setTimeout(r, 5_000));
  const before = w.take();
  const started = performance.now();
  const removed = await remove();
  const seconds = (performance.now() - started) / 1000;
  const during = w.take();
  await w.stop();
  log(`${label}: removed ${removed} rows in ${seconds.toFixed(1)} s (${Math.round(removed / seconds)} rows/s)`);
  log(`  writer before: ${describeLatency(before)}`);
  log(`  writer during: ${describeLatency(during)}`);
}

async function main(): Promise<void> {
  execFileSync(process.execPath, [path.join(ROOT, "scripts", "prisma-cli.mjs"), "migrate", "deploy"], { cwd: ROOT, env: { ...process.env, DATABASE_URL: url }, stdio: "ignore" });
  const pool = createPool(url, { max: 4 });
  try {
    const { rows: version } = await pool.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    log(`PostgreSQL ${version[0]!.v}, schema ${schema}, ${ROWS} rows over 10 days`);

    // A. batched deletes on the table the recorder writes.
    log(`A. messages loaded in ${(await load(pool, "messages")).toFixed(1)} s`);
    await pool.query("INSERT INTO topic_stats (topic, message_count, row_count) SELECT topic, count(*), count(*) FROM messages GROUP BY topic");
    const retention = new Retention(pool, { defaults: { maxAgeSeconds: 5 * 86_400, maxRows: null }, auditDays: null, intervalMs: 3_600_000, batchRows: 5_000 }, (e) => console.error(e));
    await measure(
      "A. batched deletes (Retention, 5,000 rows per statement)",
      pool,
      (client, rows) => insertBatch(client, rows, "copy"),
      async () => Object.values((await retention.runOnce()).messages).reduce((a, b) => a + b, 0),
    );

    // B. the same rows in a table partitioned by day; retention = detach + drop the oldest partitions.
    await pool.query("CREATE TABLE messages_p (LIKE messages INCLUDING DEFAULTS) PARTITION BY RANGE (received_at)");
    await pool.query("ALTER TABLE messages_p ADD PRIMARY KEY (id, received_at)");
    for (const columns of ["topic, ingest_seq", "topic, type, ingest_seq", "topic, ordering_key, ingest_seq", "topic, received_at"]) {
      await pool.query(`CREATE INDEX ON messages_p (${columns})`);
    }
    await pool.query("CREATE UNIQUE INDEX ON messages_p (ingest_seq, received_at)");
    const today = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
    const partitions: string[] = [];
    for (let d = -11; d <= 1; d++) {
      const from = new Date(today.getTime() + d * DAY_MS);
      const to = new Date(from.getTime() + DAY_MS);
      const name = `messages_p_${from.toISOString().slice(0, 10).replace(/-/g, "")}`;
      partitions.push(name);
      await pool.query(`CREATE TABLE ${name} PARTITION OF messages_p FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`);
    }
    log(`B. messages_p loaded in ${(await load(pool, "messages_p")).toFixed(1)} s`);
    const cutoff = Date.now() - 5 * DAY_MS;
    const old = partitions.filter((name) => {
      const day = Date.parse(`${name.slice(-8, -4)}-${name.slice(-4, -2)}-${name.slice(-2)}T00:00:00Z`);
      return day + DAY_MS <= cutoff;
    });
    let removed = 0;
    for (const name of old) removed += Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`)).rows[0]!.n);
    await measure(
      `B. partitions (detach concurrently + drop ${old.length} daily partitions)`,
      pool,
      (client, rows) => copyInto(client, "messages_p", rows),
      async () => {
        for (const name of old) {
          await pool.query(`ALTER TABLE messages_p DETACH PARTITION ${name} CONCURRENTLY`);
          await pool.query(`DROP TABLE ${name}`);
        }
        return removed;
      },
    );
  } finally {
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`).catch((e) => console.error("drop schema:", e));
    await pool.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
