import { describe, expect, it } from "vitest";
import type pg from "pg";
import { CopyIn } from "@/server/history/copy-in";
import { historyDatabase } from "../support/postgres";

// CopyIn sends COPY's data with the query, before the server asks for it: on real Postgres, the rows arrive
// whole, a failure before or inside the COPY rejects with the server's error and leaves the connection usable
// (the data sent ahead is dropped by the server), and the COPY starts only once the statements before it ran.
const database = historyDatabase("t_copyin", { max: 3 });

async function withClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await database.pool.connect();
  try {
    return await work(client);
  } finally {
    client.release();
  }
}

const lines = (n: number, width = 0) => Array.from({ length: n }, (_, i) => `${i}\t${"x".repeat(width)}${i}\n`).join("");

describe("CopyIn", () => {
  it("copies every row of a batch larger than one CopyData message (3 MiB), as text or bytes", async () => {
    await withClient(async (client) => {
      await client.query("CREATE TABLE copy_whole (n int, t text)");
      const text = lines(30_000, 100);
      expect(Buffer.byteLength(text)).toBeGreaterThan(3 << 20);
      expect(await client.query(new CopyIn("COPY copy_whole (n, t) FROM STDIN", text)).done).toBe(30_000);
      expect(await client.query(new CopyIn("COPY copy_whole (n, t) FROM STDIN", new TextEncoder().encode(lines(5)))).done).toBe(5);
      const { rows } = await client.query<{ count: string; sum: string }>("SELECT count(*), sum(n) FROM copy_whole");
      expect(rows[0]).toEqual({ count: "30005", sum: String((29_999 * 30_000) / 2 + 10) });
    });
  });

  it("runs the statements after the COPY once its data ended, and hands over the rows of those before it", async () => {
    await withClient(async (client) => {
      await client.query("CREATE TABLE copy_around (n int, t text)");
      const rows: (string | null)[][] = [];
      const copy = new CopyIn("BEGIN; SELECT 'before' AS a, NULL AS b; COPY copy_around (n, t) FROM STDIN; COMMIT", lines(100), {
        onRow: (fields) => rows.push(fields),
      });
      expect(await client.query(copy).done).toBe(100);
      expect(rows).toEqual([["before", null]]);
      // Committed by the COMMIT inside the query: another session sees the rows, this one is outside any transaction.
      expect((await database.pool.query("SELECT count(*)::int AS n FROM copy_around")).rows[0]).toEqual({ n: 100 });
      expect((client as unknown as { getTransactionStatus(): string }).getTransactionStatus()).toBe("I");
    });
  });

  it("rejects with the error of a statement before the COPY, and the connection goes on", async () => {
    await withClient(async (client) => {
      await client.query("CREATE TABLE copy_before (n int, t text)");
      const copy = new CopyIn("BEGIN; SELECT 1 / 0; COPY copy_before (n, t) FROM STDIN", lines(1_000));
      await expect(client.query(copy).done).rejects.toMatchObject({ code: "22012" });
      await client.query("ROLLBACK");
      expect((await client.query("SELECT count(*)::int AS n FROM copy_before")).rows[0]).toEqual({ n: 0 });
    });
  });

  it("rejects with the error of a bad row inside the COPY, writes nothing, and the connection goes on", async () => {
    await withClient(async (client) => {
      await client.query("CREATE TABLE copy_bad (n int, t text)");
      const text = `${lines(500)}not-a-number\tx\n${lines(500)}`;
      await expect(client.query(new CopyIn("BEGIN; COPY copy_bad (n, t) FROM STDIN", text)).done).rejects.toMatchObject({ code: "22P02" });
      await client.query("ROLLBACK");
      expect((await client.query("SELECT count(*)::int AS n FROM copy_bad")).rows[0]).toEqual({ n: 0 });
      expect(await client.query(new CopyIn("COPY copy_bad (n, t) FROM STDIN", lines(3))).done).toBe(3);
    });
  });

  it("starts taking the data only once the statements before the COPY ran (a lock they wait for)", async () => {
    await database.pool.query("CREATE TABLE copy_gate (id int PRIMARY KEY); INSERT INTO copy_gate VALUES (1); CREATE TABLE copy_after (n int, t text)");
    const holder = await database.pool.connect();
    try {
      await holder.query("BEGIN; SELECT 1 FROM copy_gate WHERE id = 1 FOR UPDATE");
      await withClient(async (client) => {
        const pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
        let started = false;
        const copy = client.query(
          new CopyIn("BEGIN; SELECT 1 FROM copy_gate WHERE id = 1 FOR UPDATE; COPY copy_after (n, t) FROM STDIN", lines(2_000), { onStarted: () => (started = true) }),
        );
        // The copying session is waiting for the lock, its data already sent: nothing is copied, nothing started.
        const waiting = async () =>
          (await database.pool.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'", [pid])).rowCount === 1;
        for (const deadline = Date.now() + 10_000; !(await waiting()); ) {
          if (Date.now() > deadline) throw new Error("the COPY's session never waited for the lock");
          await new Promise((resolve) => setImmediate(resolve));
        }
        expect(started).toBe(false);
        await holder.query("COMMIT");
        expect(await copy.done).toBe(2_000);
        expect(started).toBe(true);
        await client.query("COMMIT");
      });
      expect((await database.pool.query("SELECT count(*)::int AS n FROM copy_after")).rows[0]).toEqual({ n: 2_000 });
    } finally {
      await holder.query("ROLLBACK").catch(() => {});
      holder.release();
    }
  });
});
