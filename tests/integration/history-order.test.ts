import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type pg from "pg";
import { createMessage, newId, openTopic, type Message } from "@whisper/core";
import { CopyIn } from "@/server/history/copy-in";
import { Recorder } from "@/server/history/recorder";
import { messageRow } from "@/server/history/rows";
import { insertBatch } from "@/server/history/writer";
import { browseMessages } from "@/server/services/messages";
import type { BrowseFilter } from "@/server/services/types";
import { deleteStreams } from "../support/jetstream";
import { historyDatabase, withConnect } from "../support/postgres";
import { waitFor } from "../support/wait";

// Arrival order on real Postgres: per ordering key, history browses in exactly the order the events were
// published (the broker's order), across page boundaries, with batches written two at a time and with
// transactions that fail and are retried.
const NATS = process.env.WHISPER_TEST_NATS ?? "127.0.0.1:4222";
const id = newId().slice(-10).toLowerCase();
const stream = `ORDER_${id}`;
const database = historyDatabase("t_order", { max: 6 });
let pool: pg.Pool;

beforeAll(() => {
  pool = database.pool;
});

afterAll(() => deleteStreams(NATS, [stream]));

/** Every page of a browse (newest first), following nextCursor. */
async function browseAll(filter: BrowseFilter): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await browseMessages({ ...filter, cursor });
    ids.push(...page.items.map((m) => m.id));
    if (!page.nextCursor) return ids;
    cursor = page.nextCursor;
  }
}

/** 1,000 events over 10 ordering keys, published in one synchronous burst (the core batches them). */
async function publishBurst(url: string): Promise<Message[]> {
  const topic = await openTopic(url, { ordering: true });
  try {
    const messages = Array.from({ length: 1000 }, (_, i) =>
      createMessage({ id: `e${String(i).padStart(4, "0")}-${newId()}`, type: "order.step", orderingKey: `k${(i * 7) % 10}`, data: { i } }),
    );
    const published = messages.map((m) => topic.publish(m).get());
    await Promise.all(published);
    return messages;
  } finally {
    await topic.close();
  }
}

/** Per key, the ids in publish order. */
function byKey(messages: Message[]): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  for (const m of messages) keys.set(m.orderingKey!, [...(keys.get(m.orderingKey!) ?? []), m.id]);
  return keys;
}

async function expectPublishOrder(topicName: string, messages: Message[]): Promise<void> {
  const keys = byKey(messages);
  expect(keys.size).toBe(10);
  for (const [key, ids] of keys) {
    // 37 per page: every key's 100 rows span pages whose boundaries fall anywhere.
    const browsed = await browseAll({ topic: topicName, orderingKey: key, limit: 37 });
    expect(browsed.reverse(), key).toEqual(ids);
  }
  // Across keys the core sends in parallel, so the topic's order is the broker's (checked where it has one).
  expect(new Set(await browseAll({ topic: topicName, limit: 200 }))).toEqual(new Set(messages.map((m) => m.id)));
}

describe("history order", () => {
  it("JetStream: 1,000 events with 10 keys in one batch browse per key in publish order, across pages", async () => {
    const subject = `order.${id}`;
    const url = `jetstream://${NATS}/${subject}?stream=${stream}`;
    const messages = await publishBurst(url); // stored in the stream before the recorder starts
    // Small batches: about 16 of them, written two at a time, so their commit order is what is tested.
    const recorder = new Recorder({ pool, batchSize: 64, maxLatencyMs: 5 });
    try {
      await recorder.watch(subject, url);
      await waitFor(() => recorder.stats()[0]!.acked === 1000, { timeoutMs: 60_000, what: "1,000 recorded" });
    } finally {
      await recorder.close();
    }
    await expectPublishOrder(subject, messages);
    // The broker's order: stream sequence 1…1000 in ingest order.
    const { rows } = await pool.query<{ sequence: string }>("SELECT sequence FROM messages WHERE topic = $1 ORDER BY ingest_seq", [subject]);
    expect(rows.map((r) => Number(r.sequence))).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  });

  it("keeps publish order when transactions fail after taking the topic lock and are retried", async () => {
    const topicName = `order-faults-${newId()}`;
    const url = `eventbus:${topicName}?bus=order-${id}`;
    // Every 4th transaction fails just before its COMMIT, after taking the topic lock (it rolls back): the batch
    // cut after it holds the lock next, must roll back too, and both are written again in their order. A COMMIT
    // sent on its own is lost on the way; one sent with the batch's data (copy-in.ts) meets a failing statement.
    let commits = 0;
    let lost = 0;
    let followedOnServer = 0;
    const faulty = withConnect(pool, async (connect) => {
      const client = await connect();
      return new Proxy(client, {
        get(target, prop, receiver) {
          if (prop === "query") {
            return (...args: unknown[]) => {
              const [query] = args;
              if (query instanceof CopyIn && query.text.endsWith("; COMMIT")) {
                // The batch after a failed one learns it on the server (its check before COMMIT fails).
                query.done.catch((error: { code?: string }) => void (error.code === "WH001" && followedOnServer++));
                if (++commits % 4 === 0) {
                  lost++;
                  const failing = "DO $$BEGIN RAISE EXCEPTION 'failure before COMMIT (simulated)' USING ERRCODE = '57014'; END$$; COMMIT";
                  Object.assign(query, { text: `${query.text.slice(0, -"COMMIT".length)}${failing}` });
                }
              } else if (query === "COMMIT" && ++commits % 4 === 0) {
                lost++;
                return Promise.reject(new Error("COMMIT lost (simulated)"));
              }
              return (target.query as (...a: unknown[]) => unknown).apply(target, args);
            };
          }
          const value = Reflect.get(target, prop, receiver);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    });
    const recorder = new Recorder({ pool: faulty, batchSize: 50, maxLatencyMs: 5, retryInitialDelayMs: 1, retryMaxDelayMs: 5 });
    let messages: Message[];
    try {
      await recorder.watch(topicName, url);
      messages = await publishBurst(url);
      await waitFor(() => recorder.stats()[0]!.acked === 1000, { timeoutMs: 60_000, what: "1,000 recorded" });
      expect(recorder.stats()[0]).toMatchObject({ recorded: 1000, duplicates: 0, rejected: 0 });
      expect(recorder.stats()[0]!.retries).toBeGreaterThan(0);
    } finally {
      await recorder.close();
    }
    expect(lost).toBeGreaterThan(0);
    expect(followedOnServer).toBeGreaterThan(0);
    await expectPublishOrder(topicName, messages);
  });

  it("takes ingest sequence values in commit order: a writer waiting for the topic lock numbers after the holder", async () => {
    const topicName = `order-lock-${newId()}`;
    const rowsOf = (label: string) =>
      Array.from({ length: 5 }, (_, i) => messageRow(createMessage({ id: `${label}${i}-${newId()}`, type: "x" }), topicName, new Date()));
    const [first, second] = [rowsOf("a"), rowsOf("b")];
    const holder = await pool.connect();
    const waiter = await pool.connect();
    try {
      // The holder writes `first` by hand, holding the topic lock the way insertBatch takes it …
      await holder.query("BEGIN");
      await holder.query("INSERT INTO topic_stats (topic) VALUES ($1) ON CONFLICT DO NOTHING", [topicName]);
      await holder.query("SELECT 1 FROM topic_stats WHERE topic = $1 FOR UPDATE", [topicName]);
      // … while insertBatch of `second` starts, and must wait for that lock before taking any value.
      const secondWrite = insertBatch(waiter, second, "copy");
      await waitFor(
        async () => {
          const { rows } = await pool.query("SELECT 1 FROM pg_locks WHERE NOT granted AND pid = $1", [(waiter as unknown as { processID: number }).processID]);
          return rows.length > 0;
        },
        { what: "the second writer waiting for the topic lock" },
      );
      for (const row of first) {
        await holder.query("INSERT INTO messages (id, topic, source, type, time, size, received_at) VALUES ($1, $2, $3, $4, $5, 0, now())", [
          row.id,
          topicName,
          row.source,
          row.type,
          row.time,
        ]);
      }
      await holder.query("COMMIT");
      expect(await secondWrite).toHaveLength(5);
    } finally {
      holder.release();
      waiter.release();
    }
    const { rows } = await pool.query<{ id: string }>("SELECT id FROM messages WHERE topic = $1 ORDER BY ingest_seq", [topicName]);
    expect(rows.map((r) => r.id)).toEqual([...first, ...second].map((r) => r.id));
  });
});
