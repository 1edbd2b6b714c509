import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type pg from "pg";
import { newId, openTopic, type Topic } from "@whisper/core";
import { createPool } from "@/server/db";
import { Recorder } from "@/server/history/recorder";
import { deleteStreams } from "../support/jetstream";
import { createTestSchema, gatedPool, until, type TestSchema } from "../support/postgres";

// The recorder as a durable JetStream consumer on the shared NATS server (WHISPER_TEST_NATS, default
// 127.0.0.1:4222): what it acked is never delivered again, what it held unacked when it stopped is.
const NATS = process.env.WHISPER_TEST_NATS ?? "127.0.0.1:4222";
const id = newId().slice(-10).toLowerCase();
const stream = `HIST_${id}`;
const subject = `hist.${id}`;
const url = `jetstream://${NATS}/${subject}?stream=${stream}`;

let schema: TestSchema;
let pool: pg.Pool;
let topic: Topic;

beforeAll(async () => {
  schema = await createTestSchema("t_jetstream");
  pool = createPool(schema.url, { max: 4 });
  topic = await openTopic(url);
});

afterAll(async () => {
  await topic?.close();
  await pool?.end();
  await schema?.drop();
  await deleteStreams(NATS, [stream]);
});

async function rows(): Promise<{ id: string; sequence: string | null }[]> {
  return (await pool.query("SELECT id, sequence FROM messages WHERE topic = $1 ORDER BY sequence", [subject])).rows;
}

async function publish(n: number): Promise<string[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => topic.publish({ type: "js", data: { i } }).get()));
}

describe("recorder on JetStream", () => {
  it("records with the stream sequence, resumes after a restart without duplicates, and gets back what it held", async () => {
    const first = await publish(200); // the stream keeps them until the durable consumer takes them
    const a = new Recorder({ pool, maxLatencyMs: 5 });
    await a.watch(subject, url);
    await until(() => a.stats()[0]!.acked === 200);
    await a.close();
    const afterA = await rows();
    expect(afterA.map((r) => r.id).sort()).toEqual([...first].sort());
    expect(afterA.map((r) => Number(r.sequence))).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));

    // Published while no recorder runs; then a recorder that cannot write holds them and is stopped.
    const second = await publish(100);
    const { pool: blocked, release } = gatedPool(pool);
    const b = new Recorder({ pool: blocked, maxLatencyMs: 5, closeTimeoutMs: 50 });
    await b.watch(subject, url);
    await until(() => b.stats()[0]!.held === 100);
    await b.close(); // gives up on the held batch after closeTimeoutMs: nacks it, writes nothing
    release();

    // A new recorder (a restarted dashboard) gets exactly the unrecorded messages.
    const c = new Recorder({ pool, maxLatencyMs: 5 });
    await c.watch(subject, url);
    await until(async () => (await rows()).length === 300);
    await until(() => c.stats()[0]!.acked >= 100);
    await c.close();
    const all = await rows();
    expect(new Set(all.map((r) => r.id))).toEqual(new Set([...first, ...second]));
    expect(all).toHaveLength(300);
    expect(new Set(all.map((r) => r.sequence)).size).toBe(300);
  });
});
