import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMessage,
  getBus,
  newId,
  openSubscription,
  openTopic,
  OrderingKeyPausedError,
  PublishError,
  type Message,
  type Subscription,
  type Topic,
} from "@whisper/core";
import { closeDb } from "@/server/db";
import { appendToStall, discardStalled, listStalled, recordStall, resumeStalled } from "@/server/services/ordering";
import { listAudit } from "@/server/services/audit";
import { ConflictError, NotFoundError } from "@/server/services/errors";
import { createTestSchema, until, type TestSchema } from "../support/postgres";

let schema: TestSchema;
const busName = `history-ordering-${newId()}`;
const bus = getBus(busName);
const TOPIC = "ordered";
const url = `eventbus:${TOPIC}?bus=${busName}`;
let topic: Topic;
let consumer: Subscription;
/** Ids the consumer received, per ordering key, in arrival order. */
const delivered = new Map<string, string[]>();
/** Stall writes started by the pause listener and by rejected publishes (as the runtime does). */
const writes: Promise<void>[] = [];

const resume = (_topic: string, key: string) => void topic.resume(key);
/** As the runtime resumes: the core resends the messages first on their key (Topic.resumeWith). */
const hooks = {
  resend: async (_topic: string, key: string, messages: Message[]) => topic.resumeWith(key, messages).map((r) => r.get()),
};

/** Publishes like the runtime: a rejection because the key is paused is appended to the key's stall. */
function publishKeyed(key: string, n: number, label: string): Promise<string>[] {
  return Array.from({ length: n }, (_, i) => {
    const message = createMessage({ id: `${label}${i + 1}-${newId()}`, type: "step", orderingKey: key, data: { i } });
    return topic.publish(message).catch((error: unknown) => {
      if (error instanceof OrderingKeyPausedError) writes.push(appendToStall(TOPIC, key, message, error.cause));
      throw error;
    });
  });
}

beforeAll(async () => {
  schema = await createTestSchema("t_ordering");
  process.env.DATABASE_URL = schema.url;
  // One message per batch and no retries: the first failed send pauses its key with the rest queued behind.
  topic = await openTopic(url, {
    ordering: true,
    batching: { maxMessages: 1 },
    retry: { attempts: 1 },
    onPause: (event) => writes.push(recordStall(TOPIC, event)),
  });
  consumer = await openSubscription(url, { name: "consumer" });
  void consumer.receive((m) => {
    const key = m.orderingKey!;
    delivered.set(key, [...(delivered.get(key) ?? []), m.id]);
    m.ack();
  });
});

afterAll(async () => {
  await topic?.close();
  await consumer?.close();
  await closeDb();
  await schema?.drop();
});

/** Makes the key stall with `n` messages: the bus fails, n publishes are rejected, every write is stored. */
async function stall(key: string, n: number, label: string): Promise<string[]> {
  bus.setFailure(TOPIC, new PublishError("broker unavailable (test)", true));
  const results = await Promise.allSettled(publishKeyed(key, n, label));
  expect(results.every((r) => r.status === "rejected")).toBe(true);
  await Promise.all(writes.splice(0));
  bus.setFailure(TOPIC, undefined);
  const entry = (await listStalled(TOPIC)).find((e) => e.orderingKey === key)!;
  return entry.messages.map((m) => m.id);
}

describe("stalled ordering keys", () => {
  it("stores the failed and rejected messages in publish order, once each", async () => {
    const ids = await stall("k-order", 5, "a");
    expect(ids.map((id) => id.split("-")[0])).toEqual(["a1", "a2", "a3", "a4", "a5"]);
    // A publish after the pause is rejected at once and appended at the end.
    bus.setFailure(TOPIC, new PublishError("still down", true));
    await Promise.allSettled(publishKeyed("k-order", 1, "late"));
    await Promise.all(writes.splice(0));
    bus.setFailure(TOPIC, undefined);
    const [entry] = (await listStalled(TOPIC)).filter((e) => e.orderingKey === "k-order");
    expect(entry!.status).toBe("stalled");
    expect(entry!.error).toContain("broker unavailable (test)");
    expect(entry!.messages.map((m) => [m.seq, m.id.split("-")[0], m.status])).toEqual([
      [1, "a1", "stalled"],
      [2, "a2", "stalled"],
      [3, "a3", "stalled"],
      [4, "a4", "stalled"],
      [5, "a5", "stalled"],
      [6, "late1", "stalled"],
    ]);
  });

  it("resume resends them in the original order and closes the entry; audited", async () => {
    const [entry] = (await listStalled(TOPIC)).filter((e) => e.orderingKey === "k-order");
    const { results } = await resumeStalled(entry!.id, "operator", hooks);
    expect(results.map((r) => [r.seq, r.status])).toEqual([1, 2, 3, 4, 5, 6].map((s) => [s, "published"]));
    const expectedOrder = entry!.messages.map((m) => m.id);
    await until(() => (delivered.get("k-order")?.length ?? 0) === 6);
    expect(delivered.get("k-order")).toEqual(expectedOrder);
    expect((await listStalled(TOPIC)).some((e) => e.id === entry!.id)).toBe(false);
    const closed = (await listStalled(TOPIC, { status: "all" })).find((e) => e.id === entry!.id)!;
    expect(closed.status).toBe("resumed");
    expect(closed.messages.every((m) => m.status === "published")).toBe(true);
    const [log] = await listAudit({ target: entry!.id });
    expect(log).toMatchObject({ actor: "operator", action: "stall.resume", details: { published: 6, failed: null, remaining: 0 } });
    await expect(resumeStalled(entry!.id, "operator", hooks)).rejects.toBeInstanceOf(ConflictError);
  });

  it("stops at the first failed resend, keeps the rest stalled, and finishes on the next resume", async () => {
    const ids = await stall("k-partial", 4, "p");
    const [entry] = (await listStalled(TOPIC)).filter((e) => e.orderingKey === "k-partial");
    // The broker goes down again after the first two resends went out.
    const failAfterTwo = {
      resend: async (_topic: string, key: string, messages: Message[]) => {
        const firstTwo = topic.resumeWith(key, messages.slice(0, 2)).map((r) => r.get());
        await Promise.all(firstTwo);
        bus.setFailure(TOPIC, new PublishError("down again", true));
        return [...firstTwo, ...topic.resumeWith(key, messages.slice(2)).map((r) => r.get())];
      },
    };
    const first = await resumeStalled(entry!.id, "operator", failAfterTwo);
    await Promise.all(writes.splice(0)); // the re-pause is reported by the topic, like any pause
    expect(first.results.map((r) => r.status)).toEqual(["published", "published", "failed"]);
    expect(first.results[2]!.error).toContain("down again");
    const afterFirst = (await listStalled(TOPIC)).find((e) => e.id === entry!.id)!;
    expect(afterFirst.status).toBe("failed");
    expect(afterFirst.messages.map((m) => m.status)).toEqual(["published", "published", "failed", "stalled"]);

    bus.setFailure(TOPIC, undefined);
    const second = await resumeStalled(entry!.id, "operator", hooks);
    expect(second.results.map((r) => [r.seq, r.status])).toEqual([
      [3, "published"],
      [4, "published"],
    ]);
    await until(() => (delivered.get("k-partial")?.length ?? 0) === 4);
    expect(delivered.get("k-partial")).toEqual(ids);
  });

  it("lets only one of two concurrent resumes of an entry run", async () => {
    await stall("k-race", 3, "r");
    const [entry] = (await listStalled(TOPIC)).filter((e) => e.orderingKey === "k-race");
    const outcomes = await Promise.allSettled([
      resumeStalled(entry!.id, "a", hooks),
      resumeStalled(entry!.id, "b", hooks),
    ]);
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    const rejected = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(ConflictError);
    await until(() => (delivered.get("k-race")?.length ?? 0) === 3);
  });

  it("discard drops the messages, closes the entry, resumes the key if asked; audited", async () => {
    await stall("k-drop", 3, "d");
    const [entry] = (await listStalled(TOPIC)).filter((e) => e.orderingKey === "k-drop");
    expect(topic.pausedKeys().map((p) => p.orderingKey)).toContain("k-drop");
    expect(await discardStalled(entry!.id, "operator", resume)).toEqual({ discarded: 3 });
    expect(topic.pausedKeys().map((p) => p.orderingKey)).not.toContain("k-drop");
    const closed = (await listStalled(TOPIC, { status: "all" })).find((e) => e.id === entry!.id)!;
    expect(closed.status).toBe("discarded");
    expect(closed.messages.map((m) => m.status)).toEqual(["discarded", "discarded", "discarded"]);
    expect((await listAudit({ target: entry!.id }))[0]).toMatchObject({ action: "stall.discard", details: { discarded: 3 } });
    expect(delivered.get("k-drop")).toBeUndefined();
    await expect(discardStalled(entry!.id, "operator")).rejects.toBeInstanceOf(ConflictError);
    await expect(resumeStalled(entry!.id, "operator", hooks)).rejects.toBeInstanceOf(ConflictError);
    await expect(discardStalled("missing", "operator")).rejects.toBeInstanceOf(NotFoundError);
    await expect(resumeStalled("missing", "operator", hooks)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("survives a restart: entries are read back from the database", async () => {
    await stall("k-durable", 2, "s");
    await closeDb(); // a new process would open a fresh pool and client
    const again = (await listStalled(TOPIC)).find((e) => e.orderingKey === "k-durable")!;
    expect(again.messages.map((m) => m.id.split("-")[0])).toEqual(["s1", "s2"]);
    const { results } = await resumeStalled(again.id, "operator", hooks);
    expect(results.every((r) => r.status === "published")).toBe(true);
  });
});
