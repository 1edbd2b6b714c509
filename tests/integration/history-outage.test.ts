import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type pg from "pg";
import { newId, openTopic } from "@whisper/core";
import { createPool } from "@/server/db";
import { Recorder } from "@/server/history/recorder";
import { migrate, startPostgres, until, type PrivatePostgres } from "../support/postgres";

// This test stops and starts Postgres, so it runs its own server (never the shared one).
let server: PrivatePostgres;
let pool: pg.Pool;

beforeAll(async () => {
  server = await startPostgres();
  await migrate(server.url);
  pool = createPool(server.url, { max: 4, connectionTimeoutMillis: 2000 });
});

afterAll(async () => {
  await pool?.end().catch(() => {});
  await server?.destroy();
});

/** How long Postgres stays down: the 60-second outage the dashboard must survive without losing anything. */
const OUTAGE_MS = 60_000;

describe("recorder during a Postgres outage", () => {
  it("acks nothing while Postgres is down, holds a bounded number of messages, and loses none", async () => {
    const bus = `history-outage-${newId()}`;
    const topicName = `outage-${newId()}`;
    const url = `eventbus:${topicName}?bus=${bus}`;
    const recorder = new Recorder({
      pool,
      batchSize: 100,
      maxOutstanding: 400,
      maxLatencyMs: 5,
      retryInitialDelayMs: 20,
      retryMaxDelayMs: 300,
      // Short ack deadline: the bus redelivers held messages during the outage (which lasts at least the
      // eight retries below, ≥ 750 ms of backoff), so idempotence under redelivery is exercised too.
      ackDeadlineMs: 200,
    });
    await recorder.watch(topicName, url);
    const topic = await openTopic(url);
    const published: string[] = [];
    const publish = async (n: number) => {
      const ids = await Promise.all(Array.from({ length: n }, (_, i) => topic.publish({ type: "outage", data: { i } })));
      published.push(...ids);
    };
    const stats = () => recorder.stats()[0]!;

    try {
      await publish(500);
      await until(() => stats().acked >= 500);
      expect(stats().recorded).toBe(500);

      await server.stop();
      const downSince = Date.now();
      await publish(2000);
      await until(() => stats().retries >= 3);
      const ackedWhileDown = stats().acked;
      expect(ackedWhileDown).toBe(500);
      // Still down, more retries later: still nothing acked, and never more held than maxOutstanding.
      const retriesBefore = stats().retries;
      await until(() => stats().retries >= retriesBefore + 5);
      expect(stats().acked).toBe(ackedWhileDown);
      expect(stats().held).toBeLessThanOrEqual(400);
      expect(stats().received - stats().acked - stats().nacked).toBeLessThanOrEqual(400);

      // The outage the issue names: Postgres stays away a full minute while the recorder keeps retrying.
      await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - downSince))));
      expect(stats().acked).toBe(ackedWhileDown);
      expect(stats().held).toBeLessThanOrEqual(400);
      await server.start();
      await until(() => stats().recorded === 2500);
      // Redeliveries of messages committed meanwhile still arrive; they must not add rows.
      await until(async () => {
        const { rows } = await pool.query<{ n: string }>("SELECT count(*) AS n FROM messages WHERE topic = $1", [topicName]);
        return Number(rows[0]!.n) === 2500 && stats().held === 0;
      });
      const { rows } = await pool.query<{ id: string }>("SELECT id FROM messages WHERE topic = $1", [topicName]);
      expect(new Set(rows.map((r) => r.id))).toEqual(new Set(published));
      expect(rows).toHaveLength(published.length);
      expect(stats().duplicates).toBeGreaterThan(0);
      const { rows: totals } = await pool.query("SELECT message_count FROM topic_stats WHERE topic = $1", [topicName]);
      expect(totals[0].message_count).toBe("2500");
    } finally {
      await topic.close();
      await recorder.close();
    }
  });
});
