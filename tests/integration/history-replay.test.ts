import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMessage, newId, openTopic, type Message, type Topic } from "@whisper/core";
import { closeDb, db } from "@/server/db";
import { Recorder } from "@/server/history/recorder";
import { getMessage } from "@/server/services/messages";
import { replayMessage } from "@/server/services/replay";
import { upsertTopic } from "@/server/services/topics";
import { listAudit } from "@/server/services/audit";
import { NotFoundError } from "@/server/services/errors";
import { createTestSchema, until, type TestSchema } from "../support/postgres";

let schema: TestSchema;
let recorder: Recorder;
const bus = `history-replay-${newId()}`;
const A = "replay-a";
const B = "replay-b";
const topics = new Map<string, Topic>();
const recorded = new Set<string>();
const urlOf = (name: string) => `eventbus:${name}?bus=${bus}`;
const publish = (topic: string, m: Message) => topics.get(topic)!.publish(m).get();

beforeAll(async () => {
  schema = await createTestSchema("t_replay");
  process.env.DATABASE_URL = schema.url;
  recorder = new Recorder({ pool: db().pool, maxLatencyMs: 5, onRecorded: (_t, s) => s.forEach((m) => recorded.add(m.id)) });
  for (const name of [A, B]) {
    await upsertTopic({ name, url: urlOf(name), ordering: true });
    await recorder.watch(name, urlOf(name));
    topics.set(name, await openTopic(urlOf(name), { ordering: true }));
  }
});

afterAll(async () => {
  for (const t of topics.values()) await t.close();
  await recorder?.close();
  await closeDb();
  await schema?.drop();
});

async function recordOriginal(init: Parameters<typeof createMessage>[0]): Promise<Message> {
  const m = createMessage(init);
  await topics.get(A)!.publish(m);
  await until(() => recorded.has(m.id));
  return m;
}

describe("replayMessage", () => {
  it("publishes a copy with a new id and replayof, the same attributes and the exact data; audited", async () => {
    // JSON text whose exact bytes (spacing, number spelling) a re-serialisation would change.
    const original = await recordOriginal({
      source: "/orders",
      type: "order.created",
      subject: "o-1",
      time: "2026-01-02T03:04:05.123456Z",
      datacontenttype: "application/json",
      data: '{ "total": 1.50,  "items": [1, 2] }',
      orderingKey: "customer-7",
      extensions: { tenant: "acme" },
    });
    const result = await replayMessage(original.id, { actor: "alice" }, publish);
    expect(result.replayOf).toBe(original.id);
    expect(result.topic).toBe(A);
    expect(result.id).not.toBe(original.id);
    await until(() => recorded.has(result.id));

    const before = (await getMessage(original.id))!;
    const copy = (await getMessage(result.id))!;
    expect(copy.replayOf).toBe(original.id);
    expect(copy.data).toEqual({ encoding: "json", value: '{ "total": 1.50,  "items": [1, 2] }' });
    expect(copy).toMatchObject({
      topic: A,
      source: before.source,
      type: before.type,
      subject: before.subject,
      time: "2026-01-02T03:04:05.123456Z",
      orderingKey: "customer-7",
      datacontenttype: before.datacontenttype,
      extensions: { ...before.extensions, replayof: original.id },
    });
    const audit = await listAudit({ target: original.id });
    expect(audit[0]).toMatchObject({ actor: "alice", action: "message.replay", details: { topic: A, id: result.id, keepId: false } });
  });

  it("replays bytes to another managed topic", async () => {
    const original = await recordOriginal({ type: "blob", data: new Uint8Array([9, 8, 7, 0, 255]) });
    const result = await replayMessage(original.id, { topic: B, actor: "bob" }, publish);
    expect(result.topic).toBe(B);
    await until(() => recorded.has(result.id));
    const copy = (await getMessage(result.id))!;
    expect(copy).toMatchObject({ topic: B, replayOf: original.id, data: { encoding: "base64", value: "CQgHAP8=" } });
  });

  it("keeps the id when asked (the idempotent recorder then adds no row)", async () => {
    const original = await recordOriginal({ type: "keep", data: { k: 1 } });
    const duplicatesBefore = recorder.stats().find((s) => s.topic === A)!.duplicates;
    const result = await replayMessage(original.id, { keepId: true, actor: "carol" }, publish);
    expect(result).toEqual({ id: original.id, topic: A, replayOf: original.id });
    await until(() => recorder.stats().find((s) => s.topic === A)!.duplicates === duplicatesBefore + 1);
    expect((await getMessage(original.id))!.replayOf).toBeNull();
  });

  it("rejects unknown messages and topics, and audits a failed publish", async () => {
    await expect(replayMessage("nope", { actor: "dave" }, publish)).rejects.toBeInstanceOf(NotFoundError);
    const original = await recordOriginal({ type: "x" });
    await expect(replayMessage(original.id, { topic: "not-managed", actor: "dave" }, publish)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(replayMessage(original.id, { actor: "" }, publish)).rejects.toMatchObject({ status: 400 });
    const failing = () => Promise.reject(new Error("broker down"));
    await expect(replayMessage(original.id, { actor: "dave" }, failing)).rejects.toThrow("broker down");
    const audit = await listAudit({ target: original.id });
    expect(audit[0]).toMatchObject({ action: "message.replay.failed", details: { error: "broker down" } });
  });
});
