import { beforeAll, describe, expect, it } from "vitest";
import type pg from "pg";
import { ConnectionError, createMessage, newId, openTopic, registerDriver, type Driver, type Topic } from "@whisper/core";
import { eventbusDriver } from "@/server/whisper/drivers/eventbus/index";
import { Recorder } from "@/server/history/recorder";
import { messageRow } from "@/server/history/rows";
import { insertBatch, type InsertMethod } from "@/server/history/writer";
import { getMessage } from "@/server/services/messages";
import type { MessageSummary } from "@/server/services/types";
import { gatedPool, historyDatabase, until, withConnect } from "../support/postgres";

const database = historyDatabase("t_recorder");
let pool: pg.Pool;
const bus = `history-recorder-${newId()}`;
const urlOf = (topic: string) => `eventbus:${topic}?bus=${bus}`;

beforeAll(() => {
  pool = database.pool;
});

async function countRows(topic: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>("SELECT count(*) AS n FROM messages WHERE topic = $1", [topic]);
  return Number(rows[0]!.n);
}

async function withRecorder<T>(
  options: Partial<ConstructorParameters<typeof Recorder>[0]>,
  topicName: string,
  work: (recorder: Recorder, topic: Topic) => Promise<T>,
): Promise<T> {
  const recorder = new Recorder({ pool, maxLatencyMs: 5, ...options });
  await recorder.watch(topicName, urlOf(topicName));
  const topic = await openTopic(urlOf(topicName), { ordering: true });
  try {
    return await work(recorder, topic);
  } finally {
    await topic.close();
    await recorder.close();
  }
}


describe("recorder", () => {
  it("records every attribute, extension and the exact data of JSON, text and bytes messages", async () => {
    const topicName = `attrs-${newId()}`;
    const recorded: MessageSummary[] = [];
    await withRecorder({ onRecorded: (_t, s) => recorded.push(...s) }, topicName, async (_recorder, topic) => {
      const json = createMessage({
        source: "/tests",
        type: "test.json",
        subject: "s-1",
        dataschema: "https://example.com/schema",
        data: { a: 1, nested: { b: [true, null] } },
        orderingKey: "k1",
        extensions: { tenant: "acme", attempt: 3, flag: false },
      });
      const text = createMessage({ type: "test.text", data: "tab\there\nnewline \\ backslash ünïcode" });
      const bytes = createMessage({ type: "test.bytes", data: new Uint8Array([0, 1, 2, 254, 255]) });
      const nul = createMessage({ type: "test.nul", data: "before\u0000after" });
      const none = createMessage({ type: "test.none" });
      for (const m of [json, text, bytes, nul, none]) await topic.publish(m);
      await until(() => recorded.length === 5);

      const j = (await getMessage(json.id))!;
      expect(j).toMatchObject({
        id: json.id,
        topic: topicName,
        source: "/tests",
        type: "test.json",
        subject: "s-1",
        dataschema: "https://example.com/schema",
        datacontenttype: "application/json",
        orderingKey: "k1",
        specversion: "1.0",
        time: json.time,
        extensions: { tenant: "acme", attempt: 3, flag: false, orderingkey: "k1" },
        data: { encoding: "json", value: JSON.stringify(json.data) },
        replayOf: null,
        sequence: null,
      });
      expect((await getMessage(text.id))!.data).toEqual({ encoding: "text", value: text.body });
      expect((await getMessage(bytes.id))!.data).toEqual({ encoding: "base64", value: "AAEC/v8=" });
      expect((await getMessage(nul.id))!.data).toEqual({
        encoding: "base64",
        value: Buffer.from("before\u0000after").toString("base64"),
      });
      expect((await getMessage(none.id))!.data).toEqual({ encoding: "none", value: "" });
      expect((await getMessage(bytes.id))!.size).toBe(5);
    });
  });

  it("makes one row per id when the same message is delivered again, and reports it once", async () => {
    const topicName = `dup-${newId()}`;
    const recorded: string[] = [];
    await withRecorder({ onRecorded: (_t, s) => recorded.push(...s.map((m) => m.id)) }, topicName, async (recorder, topic) => {
      const messages = Array.from({ length: 50 }, (_, i) => createMessage({ type: "dup", data: { i } }));
      for (const m of messages) void topic.publish(m);
      await topic.flush();
      await until(() => recorder.stats()[0]!.acked === 50);
      // The broker delivers every message a second time (a redelivery, as after a lost ack).
      for (const m of messages) void topic.publish(m);
      await topic.flush();
      await until(() => recorder.stats()[0]!.acked === 100);
      const stats = recorder.stats()[0]!;
      expect(stats).toMatchObject({ received: 100, recorded: 50, duplicates: 50, rejected: 0, held: 0 });
      expect(await countRows(topicName)).toBe(50);
      expect(recorded.sort()).toEqual(messages.map((m) => m.id).sort());
    });
  });

  it("retries a failed insert and neither loses nor duplicates the batch", async () => {
    const topicName = `retry-${newId()}`;
    let failures = 2;
    const flaky = withConnect(pool, async (connect) => {
      if (failures-- > 0) throw Object.assign(new Error("connect ECONNREFUSED (simulated)"), { code: "ECONNREFUSED" });
      return connect();
    });
    const errors: string[] = [];
    await withRecorder(
      { pool: flaky, retryInitialDelayMs: 5, retryMaxDelayMs: 20, onError: (e, c) => errors.push(`${c.what}: ${(e as Error).message}`) },
      topicName,
      async (recorder, topic) => {
        const messages = Array.from({ length: 20 }, (_, i) => createMessage({ type: "retry", data: { i } }));
        for (const m of messages) void topic.publish(m);
        await topic.flush();
        await until(() => recorder.stats()[0]!.acked === 20);
        expect(recorder.stats()[0]).toMatchObject({ recorded: 20, duplicates: 0, retries: 2 });
        expect(errors.filter((e) => e.startsWith("insert (will retry)"))).toHaveLength(2);
        expect(await countRows(topicName)).toBe(20);
      },
    );
  });

  it("records a message history cannot hold verbatim escaped, says so in recorderror, and counts it", async () => {
    const topicName = `escape-${newId()}`;
    const errors: string[] = [];
    await withRecorder({ onError: (e, c) => errors.push(`${c.what}: ${(e as Error).message}`) }, topicName, async (recorder, topic) => {
      const good = Array.from({ length: 5 }, (_, i) => createMessage({ type: "ok", data: { i } }));
      const bad = createMessage({ type: "bad", subject: "nul\u0000in \\ subject", extensions: { tenant: "a\u0000b" }, data: {} });
      for (const m of [...good.slice(0, 2), bad, ...good.slice(2)]) void topic.publish(m);
      await topic.flush();
      await until(() => recorder.stats()[0]!.acked === 6);
      expect(recorder.stats()[0]).toMatchObject({ recorded: 6, escaped: 1, rejected: 0, held: 0 });
      expect(errors.some((e) => e.includes(bad.id) && e.includes("recorderror"))).toBe(true);
      const stored = (await getMessage(bad.id))!;
      expect(stored.subject).toBe("nul\\u0000in \\\\ subject");
      expect(stored.extensions.tenant).toBe("a\\u0000b");
      expect(stored.extensions.recorderror).toBe("stored with changes: subject: NUL escaped as \\u0000; tenant: NUL escaped as \\u0000");
      for (const m of good) expect((await getMessage(m.id))!.extensions.recorderror).toBeUndefined();
      expect(await countRows(topicName)).toBe(6);
    });
  });

  it("acks and reports a row Postgres still refuses, and records the rest of its batch", async () => {
    const topicName = `poison-${newId()}`;
    const errors: string[] = [];
    // A broker sequence beyond bigint: a data error storable.ts does not know about (the last line of defence).
    const poison = new Set<string>();
    const sequenceOf = (m: { id: string }) => (poison.has(m.id) ? 2n ** 64n : null);
    await withRecorder({ onError: (_e, c) => errors.push(c.what), sequenceOf }, topicName, async (recorder, topic) => {
      const good = Array.from({ length: 5 }, (_, i) => createMessage({ type: "ok", data: { i } }));
      const bad = createMessage({ type: "bad", data: {} });
      poison.add(bad.id);
      for (const m of [...good.slice(0, 2), bad, ...good.slice(2)]) void topic.publish(m);
      await topic.flush();
      await until(() => recorder.stats()[0]!.acked === 6);
      expect(recorder.stats()[0]).toMatchObject({ recorded: 5, rejected: 1, held: 0 });
      expect(errors.some((w) => w.includes(bad.id))).toBe(true);
      expect(await getMessage(bad.id)).toBeNull();
      expect(await countRows(topicName)).toBe(5);
    });
  });

  it("reopens its subscription when the driver fails, and records what is published afterwards", async () => {
    // `flaky:` = the in-process bus whose first subscription fails on its first receive.
    let failuresLeft = 1;
    const flakyDriver: Driver = {
      openTopic: (url, options) => eventbusDriver.openTopic(new URL(url.href.replace(/^flaky:/, "eventbus:")), options),
      async openSubscription(url, options) {
        const inner = await eventbusDriver.openSubscription(new URL(url.href.replace(/^flaky:/, "eventbus:")), options);
        return {
          capabilities: inner.capabilities,
          receiveBatch: async (max, signal) => {
            if (failuresLeft-- > 0) throw new ConnectionError("connection lost (simulated)");
            return inner.receiveBatch(max, signal);
          },
          sendAcks: (ids) => inner.sendAcks(ids),
          sendNacks: (ids, delay) => inner.sendNacks(ids, delay),
          close: () => inner.close(),
        };
      },
    };
    registerDriver("flaky", flakyDriver);
    const topicName = `reopen-${newId()}`;
    const url = `flaky:${topicName}?bus=${bus}`;
    const errors: string[] = [];
    const recorder = new Recorder({
      pool,
      maxLatencyMs: 5,
      retryInitialDelayMs: 5,
      onError: (e, c) => errors.push(`${c.what}: ${(e as Error).message}`),
    });
    await recorder.watch(topicName, url);
    const topic = await openTopic(url);
    try {
      await until(() => errors.some((e) => e.startsWith("subscription (will reopen): connection lost")) && failuresLeft < 0);
      const messages = Array.from({ length: 10 }, (_, i) => createMessage({ type: "after", data: { i } }));
      for (const m of messages) void topic.publish(m);
      await topic.flush();
      await until(() => recorder.stats()[0]!.recorded === 10);
      expect(await countRows(topicName)).toBe(10);
    } finally {
      await topic.close();
      await recorder.close();
    }
  });

  it("holds at most maxOutstanding messages while the database does not answer, then records them all", async () => {
    const topicName = `backpressure-${newId()}`;
    const { pool: stalled, release } = gatedPool(pool);
    await withRecorder({ pool: stalled, batchSize: 100, maxOutstanding: 300 }, topicName, async (recorder, topic) => {
      const total = 3000;
      for (let i = 0; i < total; i++) void topic.publish({ type: "bp", data: { i } });
      await topic.flush(); // the bus accepted them all: the recorder must not take them all
      await until(() => recorder.stats()[0]!.received === 300);
      // Give the subscription every chance to over-pull before checking the bound.
      await new Promise((r) => setTimeout(r, 100));
      expect(recorder.stats()[0]!.received).toBe(300);
      expect(recorder.stats()[0]!.held).toBe(300);
      release();
      await until(() => recorder.stats()[0]!.acked === total);
      expect(recorder.stats()[0]).toMatchObject({ recorded: total, duplicates: 0, held: 0 });
      expect(await countRows(topicName)).toBe(total);
    });
  });

  it("stops taking messages at maxHeldBytes of data while the database does not answer", async () => {
    const topicName = `bytes-${newId()}`;
    const { pool: stalled, release } = gatedPool(pool);
    await withRecorder({ pool: stalled, batchSize: 100, maxHeldBytes: 10_000 }, topicName, async (recorder, topic) => {
      for (let i = 0; i < 200; i++) void topic.publish({ type: "big", data: "x".repeat(1000) });
      await topic.flush();
      await until(() => recorder.stats()[0]!.held === 10);
      await new Promise((r) => setTimeout(r, 100));
      expect(recorder.stats()[0]).toMatchObject({ held: 10, heldBytes: 10_000 });
      release();
      await until(() => recorder.stats()[0]!.acked === 200);
      expect(recorder.stats()[0]).toMatchObject({ recorded: 200, held: 0, heldBytes: 0 });
    });
  });

  it("unwatches a topic whose batch waits behind another topic's stuck write, handing its messages back", async () => {
    const { pool: stalled, release } = gatedPool(pool);
    const [a, b] = [`stuck-a-${newId()}`, `stuck-b-${newId()}`];
    const recorder = new Recorder({ pool: stalled, maxLatencyMs: 5, maxConcurrentWrites: 1, closeTimeoutMs: 20 });
    await recorder.watch(a, urlOf(a));
    await recorder.watch(b, urlOf(b));
    const [ta, tb] = [await openTopic(urlOf(a)), await openTopic(urlOf(b))];
    try {
      await ta.publish({ type: "a" });
      await until(() => recorder.stats().find((s) => s.topic === a)!.held === 1);
      await tb.publish({ type: "b" });
      await until(() => recorder.stats().find((s) => s.topic === b)!.held === 1);
      await recorder.unwatch(b); // must not wait for topic a's write
      expect(recorder.watched()).toEqual([a]);
      release();
      await until(() => recorder.stats()[0]!.acked === 1);
      expect(await countRows(b)).toBe(0);
      expect(await countRows(a)).toBe(1);
    } finally {
      await ta.close();
      await tb.close();
      await recorder.close();
    }
  });
});

describe("insertBatch", () => {
  const methods: InsertMethod[] = ["copy", "staging", "unnest"];
  for (const method of methods) {
    it(`${method}: inserting the same rows again inserts nothing; a mixed batch inserts only the new ids`, async () => {
      const topicName = `insert-${method}-${newId()}`;
      const rows = Array.from({ length: 30 }, (_, i) =>
        messageRow(createMessage({ type: "x", data: `line ${i}\twith\\escapes\n` }), topicName, new Date(), i),
      );
      const client = await pool.connect();
      try {
        expect(await insertBatch(client, rows.slice(0, 20), method)).toHaveLength(20);
        expect(await insertBatch(client, rows.slice(0, 20), method)).toHaveLength(0);
        const mixed = await insertBatch(client, rows, method);
        expect(mixed.map((r) => r.id)).toEqual(rows.slice(20).map((r) => r.id));
      } finally {
        client.release();
      }
      expect(await countRows(topicName)).toBe(30);
      const { rows: stats } = await pool.query("SELECT message_count FROM topic_stats WHERE topic = $1", [topicName]);
      expect(stats[0].message_count).toBe("30");
      const stored = (await getMessage(rows[7]!.id))!;
      expect(stored.data).toEqual({ encoding: "text", value: "line 7\twith\\escapes\n" });
      expect(stored.sequence).toBe("7");
    });

    it(`${method}: a batch holding one id twice inserts, reports and counts it once`, async () => {
      const topicName = `insert-twice-${method}-${newId()}`;
      const rows = Array.from({ length: 3 }, (_, i) => messageRow(createMessage({ type: "x", data: { i } }), topicName, new Date(), i));
      const client = await pool.connect();
      try {
        const inserted = await insertBatch(client, [...rows, ...rows], method);
        expect(inserted.map((r) => r.id)).toEqual(rows.map((r) => r.id));
      } finally {
        client.release();
      }
      expect(await countRows(topicName)).toBe(3);
      const { rows: stats } = await pool.query("SELECT message_count FROM topic_stats WHERE topic = $1", [topicName]);
      expect(stats[0].message_count).toBe("3");
    });
  }
});
