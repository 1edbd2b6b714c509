import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type pg from "pg";
import { createMessage } from "@whisper/core";
import { closeDb, createPool } from "@/server/db";
import { messageRow } from "@/server/history/rows";
import { insertBatch } from "@/server/history/writer";
import { browseMessages } from "@/server/services/messages";
import { dropSchema, migrate, ROOT, SHARED_POSTGRES, withSchema } from "../support/postgres";

// The history-order migration on a database that holds rows written under the schema before it: existing
// rows get ingest_seq 1…n in (received_at, sequence, id) order, the counters of rows kept are right, and new
// rows number after them.
const run = promisify(execFile);
const MIGRATIONS = path.join(ROOT, "prisma", "migrations");
const THIS_MIGRATION = readdirSync(MIGRATIONS).find((name) => name.endsWith("_history_order_and_retention"))!;
const schemaName = `t_migration_${randomBytes(4).toString("hex")}`;
const url = withSchema(SHARED_POSTGRES, schemaName);
let dir: string;
let pool: pg.Pool;

/** `prisma migrate deploy` of only the migrations before THIS_MIGRATION (a config of its own, same adapter). */
async function migrateToPreviousSchema(): Promise<void> {
  dir = mkdtempSync(path.join(os.tmpdir(), "whisper-migration-"));
  const migrations = path.join(dir, "migrations");
  for (const name of readdirSync(MIGRATIONS)) {
    if (name === "migration_lock.toml" || name < THIS_MIGRATION) cpSync(path.join(MIGRATIONS, name), path.join(migrations, name), { recursive: true });
  }
  // Plain object (defineConfig only types it): the file lives outside the project, where `prisma/config` does not resolve.
  writeFileSync(
    path.join(dir, "prisma.config.ts"),
    `import { migrationAdapter } from ${JSON.stringify(path.join(ROOT, "prisma", "migration-adapter"))};
export default {
  experimental: { adapter: true },
  engine: "js",
  schema: ${JSON.stringify(path.join(ROOT, "prisma", "schema.prisma"))},
  migrations: { path: ${JSON.stringify(migrations)} },
  adapter: () => migrationAdapter(process.env.DATABASE_URL),
};
`,
  );
  await run(process.execPath, [path.join(ROOT, "scripts", "prisma-cli.mjs"), "migrate", "deploy", "--config", path.join(dir, "prisma.config.ts")], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url },
  });
}

beforeAll(async () => {
  await migrateToPreviousSchema();
  process.env.DATABASE_URL = url;
  pool = createPool(url, { max: 3 });
});

afterAll(async () => {
  await pool?.end();
  await closeDb();
  await dropSchema(schemaName);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the history order and retention migration", () => {
  it("numbers rows of the previous schema deterministically and counts them; new rows follow", async () => {
    const { rows: before } = await pool.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'messages'",
      [schemaName],
    );
    expect(before.map((c) => c.column_name)).not.toContain("ingest_seq");

    // Rows as the previous recorder wrote them, inserted in a scrambled physical order: two topics, several
    // rows per millisecond, some with a broker sequence, ids that sort against time.
    const base = Date.parse("2026-06-01T00:00:00.000Z");
    const old = Array.from({ length: 60 }, (_, i) => ({
      id: `old-${String(99 - i).padStart(2, "0")}`,
      topic: i % 2 === 0 ? "orders" : "payments",
      receivedAt: new Date(base + Math.floor(i / 4)),
      sequence: i % 3 === 0 ? null : 1000 - i,
    }));
    const scrambled = old.map((_, i) => old[(i * 37) % old.length]!); // 37 is coprime with 60: a permutation
    for (const r of scrambled) {
      await pool.query(
        `INSERT INTO messages (id, topic, source, type, time, size, received_at, sequence) VALUES ($1, $2, '/old', 'old.type', $3, 0, $4, $5)`,
        [r.id, r.topic, r.receivedAt.toISOString(), r.receivedAt, r.sequence],
      );
    }
    await pool.query(
      `INSERT INTO topic_stats (topic, message_count, last_message_at) SELECT topic, count(*), max(received_at) FROM messages GROUP BY topic`,
    );

    await migrate(url); // every migration, this one included

    const expected = [...old]
      .sort(
        (a, b) =>
          a.receivedAt.getTime() - b.receivedAt.getTime() ||
          (a.sequence ?? -Infinity) - (b.sequence ?? -Infinity) ||
          (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
      )
      .map((r, i) => [r.id, String(i + 1)]);
    const { rows: numbered } = await pool.query<{ id: string; ingest_seq: string }>("SELECT id, ingest_seq FROM messages ORDER BY ingest_seq");
    expect(numbered.map((r) => [r.id, r.ingest_seq])).toEqual(expected);

    const { rows: counts } = await pool.query<{ topic: string; row_count: string; message_count: string; oldest_message_at: Date }>(
      "SELECT topic, row_count, message_count, oldest_message_at FROM topic_stats ORDER BY topic",
    );
    expect(counts).toEqual([
      { topic: "orders", row_count: "30", message_count: "30", oldest_message_at: new Date(base) },
      { topic: "payments", row_count: "30", message_count: "30", oldest_message_at: new Date(base) },
    ]);

    // New rows take values after the old ones; browsing shows old and new in arrival order.
    const fresh = Array.from({ length: 3 }, (_, i) => messageRow(createMessage({ id: `new-${i}`, type: "new.type" }), "orders", new Date(base - 1)));
    const client = await pool.connect();
    try {
      await insertBatch(client, fresh, "copy");
    } finally {
      client.release();
    }
    const page = await browseMessages({ topic: "orders", limit: 5 });
    const oldOrders = expected.map(([id]) => id!).filter((id) => old.find((r) => r.id === id)!.topic === "orders");
    expect(page.items.map((m) => m.id)).toEqual(["new-2", "new-1", "new-0", ...oldOrders.slice(-2).reverse()]);
    const { rows: last } = await pool.query<{ n: string }>("SELECT max(ingest_seq) AS n FROM messages");
    expect(last[0]!.n).toBe("63");
  });
});
