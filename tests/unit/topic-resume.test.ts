import { describe, expect, it } from "vitest";
import { createMessage, InvalidOptionsError, openTopic, OrderingKeyPausedError, PublishError, type PauseEvent } from "@whisper/core";
import { installFakeDriver } from "./fake-driver";

const fake = installFakeDriver();

describe("Topic.resumeWith", () => {
  it("sends the resent messages before anything published after it, even while racing publishers", async () => {
    const topic = await openTopic("fake:t", { ordering: true, retry: { attempts: 1 } });
    fake.topic().failWith = () => new PublishError("down", false);
    const stalled = [1, 2, 3].map((i) => createMessage({ orderingKey: "k", data: `stalled-${i}` }));
    const rejected = await Promise.allSettled(stalled.map((m) => topic.publish(m)));
    expect(rejected.every((r) => r.status === "rejected")).toBe(true);
    expect(topic.pausedKeys().map((p) => p.orderingKey)).toEqual(["k"]);
    fake.topic().failWith = () => undefined;

    // 20 publishers race the resume: some publish just before it (rejected: the key is still paused), the rest after.
    const before = Array.from({ length: 10 }, (_, i) => topic.publish(createMessage({ orderingKey: "k", data: `early-${i}` })));
    const resent = topic.resumeWith("k", stalled);
    const after = Array.from({ length: 10 }, (_, i) => topic.publish(createMessage({ orderingKey: "k", data: `late-${i}` })));
    expect((await Promise.allSettled(before)).every((r) => r.status === "rejected")).toBe(true);
    await Promise.all([...resent, ...after]);
    expect(fake.topic().sent.map((m) => m.data)).toEqual([
      ...stalled.map((m) => m.data),
      ...Array.from({ length: 10 }, (_, i) => `late-${i}`),
    ]);
  });

  it("pauses again if a resend fails, rejecting what is behind it in order", async () => {
    const topic = await openTopic("fake:t", { ordering: true, retry: { attempts: 1 }, batching: { maxMessages: 1 } });
    const pauses: PauseEvent[] = [];
    topic.onPause((e) => pauses.push(e));
    const [a, b, c] = ["a", "b", "c"].map((data) => createMessage({ orderingKey: "k", data }));
    fake.topic().failWith = (messages) => (messages.some((m) => m.id === b!.id) ? new PublishError("b refused", false) : undefined);
    const results = await Promise.allSettled(topic.resumeWith("k", [a!, b!, c!]));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "rejected"]);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(OrderingKeyPausedError);
    expect(pauses.at(-1)?.messages.map((m) => m.id)).toEqual([b!.id, c!.id]);
  });

  it("refuses messages of another key", async () => {
    const topic = await openTopic("fake:t", { ordering: true });
    expect(() => topic.resumeWith("k", [createMessage({ orderingKey: "other" })])).toThrow(InvalidOptionsError);
  });
});

describe("Topic.pause", () => {
  it("pauses a key from outside: queued messages reject with the cause, later publishes fail at once", async () => {
    const topic = await openTopic("fake:t", { ordering: true, batching: { maxLatencyMs: 1000, maxMessages: 100 } });
    const pauses: PauseEvent[] = [];
    topic.onPause((e) => pauses.push(e));
    const queued = topic.publish(createMessage({ orderingKey: "k", data: "queued" }));
    const cause = new Error("another replica's send failed");
    expect(topic.pause("k", cause)).toBe(true);
    expect(topic.pause("k", cause)).toBe(false);
    await expect(queued).rejects.toMatchObject({ orderingKey: "k", cause });
    await expect(topic.publish(createMessage({ orderingKey: "k" }))).rejects.toBeInstanceOf(OrderingKeyPausedError);
    expect(pauses).toHaveLength(1);
    expect(pauses[0]!.messages.map((m) => m.data)).toEqual(["queued"]);
    expect(topic.resume("k")).toBe(true);
    await expect(topic.publish(createMessage({ orderingKey: "k", data: "after" }))).resolves.toBeTypeOf("string");
  });

  it("does nothing on a topic without ordering", async () => {
    const topic = await openTopic("fake:t");
    expect(topic.pause("k", new Error("x"))).toBe(false);
  });
});
