import { describe, expect, it, vi } from "vitest";
import {
  count,
  createMessage,
  ErrorCode,
  openTopic,
  OrderingKeyPausedError,
  PartialSendError,
  PublishError,
  pubAck,
  type Middleware,
} from "@whisper/core";
import { deferred, nextMacrotask } from "../support/wait";
import { installFakeDriver } from "./fake-driver";

const fake = installFakeDriver();
const retryable = () => new PublishError("broker unavailable", true);
const permanent = () => new PublishError("rejected", false);

describe("Topic batching", () => {
  it("gathers a synchronous burst into batches of at most maxMessages", async () => {
    const topic = await openTopic("fake:t", { batching: { maxMessages: 10 } });
    const results = Array.from({ length: 25 }, (_, i) => topic.publish(createMessage({ data: i })));
    await Promise.all(results);
    expect(fake.topic().batches.map((b) => b.messages.length)).toEqual([10, 10, 5]);
    expect(fake.topic().sent.map((m) => m.data)).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  it("splits batches by maxBytes", async () => {
    const topic = await openTopic("fake:t", { batching: { maxBytes: 3000 } });
    const big = "x".repeat(1000);
    await Promise.all(Array.from({ length: 6 }, () => topic.publish(createMessage({ data: big }))));
    const sizes = fake.topic().batches.map((b) => b.messages.length);
    expect(sizes.reduce((a, b) => a + b)).toBe(6);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2);
  });

  it("waits up to maxLatencyMs to fill a batch", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const topic = await openTopic("fake:t", { batching: { maxLatencyMs: 30 } });
      const first = topic.publish(createMessage({ data: 1 }));
      await vi.advanceTimersByTimeAsync(29);
      expect(fake.topic().calls).toEqual([]);
      const second = topic.publish(createMessage({ data: 2 }));
      await vi.advanceTimersByTimeAsync(1);
      await Promise.all([first, second]);
      expect(fake.topic().batches.map((b) => b.messages.length)).toEqual([2]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("resolves to the message id and accepts plain fields", async () => {
    const topic = await openTopic("fake:t");
    const message = createMessage({ data: "x" });
    const result = topic.publish(message);
    expect(result.id).toBe(message.id);
    await expect(result).resolves.toBe(message.id);
    const viaFields = topic.publish({ type: "t.made", data: 1 });
    await expect(viaFields.get()).resolves.toBe(viaFields.id);
  });

  it("close() flushes what was accepted and then rejects new publishes", async () => {
    const topic = await openTopic("fake:t", { batching: { maxLatencyMs: 10_000 } });
    const pending = topic.publish(createMessage({ data: 1 }));
    await topic.close();
    await expect(pending).resolves.toBeTypeOf("string");
    expect(fake.topic().closed).toBe(true);
    await expect(topic.publish(createMessage({ data: 2 }))).rejects.toMatchObject({ code: ErrorCode.TopicClosed });
  });

  it("get({ signal }) stops waiting without cancelling the publish", async () => {
    const topic = await openTopic("fake:t");
    const gate = deferred();
    fake.topic().hold = () => gate.promise;
    const result = topic.publish(createMessage({ data: 1 }));
    const controller = new AbortController();
    const waiting = result.get({ signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: ErrorCode.Aborted });
    gate.resolve();
    await expect(result).resolves.toBe(result.id);
  });
});

describe("Topic flow control", () => {
  it("fails fast past the limit with limitExceeded: fail", async () => {
    const topic = await openTopic("fake:t", {
      flowControl: { maxOutstandingMessages: 3, limitExceeded: "fail" },
    });
    fake.topic().hold = nextMacrotask;
    const results = Array.from({ length: 5 }, (_, i) => topic.publish(createMessage({ data: i })));
    const settled = await Promise.allSettled(results);
    expect(settled.filter((s) => s.status === "fulfilled")).toHaveLength(3);
    for (const s of settled.slice(3)) {
      expect((s as PromiseRejectedResult).reason.code).toBe(ErrorCode.FlowControl);
    }
  });

  it("blocks past the limit with limitExceeded: block, never holding more than the limit, losing nothing", async () => {
    const topic = await openTopic("fake:t", {
      flowControl: { maxOutstandingMessages: 4, limitExceeded: "block" },
      batching: { maxMessages: 2 },
    });
    const driver = fake.topic();
    driver.hold = nextMacrotask;
    let maxBatch = 0;
    driver.failWith = (messages) => {
      maxBatch = Math.max(maxBatch, messages.length);
      return undefined;
    };
    const ids = await Promise.all(Array.from({ length: 40 }, (_, i) => topic.publish(createMessage({ data: i }))));
    expect(ids).toHaveLength(40);
    expect(driver.sent.map((m) => m.data)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(maxBatch).toBeLessThanOrEqual(2);
    expect(driver.maxInFlight).toBeLessThanOrEqual(2); // 4 outstanding / 2 per batch
  });
});

describe("Topic retries", () => {
  it("retries retryable send errors with backoff, then succeeds", async () => {
    const topic = await openTopic("fake:t", { retry: { attempts: 4, initialDelayMs: 1, maxDelayMs: 5 } });
    let calls = 0;
    fake.topic().failWith = () => (++calls < 3 ? retryable() : undefined);
    await expect(topic.publish(createMessage({ data: 1 }))).resolves.toBeTypeOf("string");
    expect(calls).toBe(3);
  });

  it("waits at least the broker's retry-after hint (up to maxDelayMs) before retrying", async () => {
    vi.useFakeTimers();
    try {
      const topic = await openTopic("fake:t", { retry: { attempts: 2, initialDelayMs: 1, maxDelayMs: 5_000 } });
      let sends = 0;
      fake.topic().failWith = () => (++sends === 1 ? new PublishError("slow down", true, { retryAfterMs: 300 }) : undefined);
      const result = topic.publish(createMessage({ data: 1 }));
      await vi.advanceTimersByTimeAsync(250);
      expect(sends).toBe(1); // the backoff alone (≤ 1 ms) would have retried by now
      await vi.advanceTimersByTimeAsync(100);
      expect(sends).toBe(2);
      await expect(result).resolves.toBeTypeOf("string");
    } finally {
      vi.useRealTimers();
    }
  });

  it("does not retry a permanent error and rejects with it", async () => {
    const topic = await openTopic("fake:t", { retry: { attempts: 4, initialDelayMs: 1 } });
    let calls = 0;
    fake.topic().failWith = () => (calls++, permanent());
    await expect(topic.publish(createMessage({ data: 1 }))).rejects.toMatchObject({ code: ErrorCode.PublishFailed });
    expect(calls).toBe(1);
  });

  it("wraps a non-whisper driver error in a coded PublishError with the cause", async () => {
    const topic = await openTopic("fake:t", { retry: { attempts: 1 } });
    const boom = new Error("socket hang up");
    fake.topic().failWith = () => boom;
    const error = await topic.publish(createMessage({ data: 1 })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: ErrorCode.PublishFailed, cause: boom });
  });
});

describe("Topic partial sends", () => {
  it("resolves what a partial failure sent, rejects the permanent failures and resends only the retryable ones", async () => {
    const topic = await openTopic("fake:t", { retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 2 } });
    const driver = fake.topic();
    const messages = [0, 1, 2, 3].map((i) => createMessage({ data: i }));
    driver.failWith = (batch) =>
      batch.length === 4 ? new PartialSendError(new Map<number, unknown>([[1, retryable()], [3, permanent()]]), 4) : undefined;
    const outcomes = await Promise.allSettled(messages.map((m) => topic.publish(m)));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "rejected"]);
    expect((outcomes[3] as PromiseRejectedResult).reason).toMatchObject({ message: "rejected", retryable: false });
    expect(driver.calls.map((call) => call.map((m) => m.data))).toEqual([[0, 1, 2, 3], [1]]);
    expect(driver.sent.map((m) => m.data).sort()).toEqual([0, 1, 2]); // each sent once
  });

  it("rejects a message that still fails after the retries with its own error, the others stay resolved", async () => {
    const topic = await openTopic("fake:t", { retry: { attempts: 2, initialDelayMs: 1, maxDelayMs: 2 } });
    const driver = fake.topic();
    driver.failWith = (batch) => {
      const index = batch.findIndex((m) => m.data === "bad");
      return index === -1 ? undefined : new PartialSendError(new Map([[index, retryable()]]), batch.length);
    };
    const outcomes = await Promise.allSettled(["ok", "bad", "fine"].map((data) => topic.publish({ data })));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ message: "broker unavailable" });
    expect(driver.calls.map((call) => call.length)).toEqual([3, 1]);
  });

  it("in an ordered batch keeps what was sent before a failure resolved and pauses the key from the failure on", async () => {
    const paused: unknown[][] = [];
    const topic = await openTopic("fake:t", {
      ordering: true,
      retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 2 },
      onPause: (event) => paused.push(event.messages.map((m) => m.data)),
    });
    const driver = fake.topic();
    // First call: message 2 fails retryably while the driver reports 3 as sent; the resend of 2 fails for good.
    driver.failWith = (batch) =>
      batch.length === 4
        ? new PartialSendError(new Map([[2, retryable()]]), 4)
        : new PartialSendError(new Map([[0, permanent()]]), batch.length);
    const outcomes = await Promise.allSettled([0, 1, 2, 3].map((i) => topic.publish({ orderingKey: "k", data: i })));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "rejected", "rejected"]);
    for (const outcome of outcomes.slice(2)) {
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({
        code: ErrorCode.OrderingKeyPaused,
        cause: { message: "rejected" },
      });
    }
    // The resend starts at the failed message and keeps the key's order; nothing behind it is resolved.
    expect(driver.calls.map((call) => call.map((m) => m.data))).toEqual([[0, 1, 2, 3], [2, 3]]);
    expect(paused).toEqual([[2, 3]]);
  });
});

describe("Topic ordering keys", () => {
  it("keeps at most one batch in flight per key and sends each key in order, keys in parallel", async () => {
    const topic = await openTopic("fake:t", { ordering: true, batching: { maxMessages: 3 } });
    const driver = fake.topic();
    driver.hold = nextMacrotask;
    const inFlightPerKey = new Map<string, number>();
    let maxPerKey = 0;
    const original = driver.sendBatch.bind(driver);
    driver.sendBatch = async (messages, options) => {
      const key = messages[0]!.orderingKey ?? "";
      expect(messages.every((m) => (m.orderingKey ?? "") === key)).toBe(true);
      inFlightPerKey.set(key, (inFlightPerKey.get(key) ?? 0) + 1);
      maxPerKey = Math.max(maxPerKey, inFlightPerKey.get(key)!);
      try {
        await original(messages, options);
      } finally {
        inFlightPerKey.set(key, inFlightPerKey.get(key)! - 1);
      }
    };
    const results = [];
    for (let i = 0; i < 20; i++) {
      for (const key of ["a", "b", "c"]) results.push(topic.publish(createMessage({ orderingKey: key, data: i })));
    }
    await Promise.all(results);
    expect(maxPerKey).toBe(1);
    expect(driver.maxInFlight).toBeGreaterThan(1);
    for (const key of ["a", "b", "c"]) {
      const sent = driver.sent.filter((m) => m.orderingKey === key).map((m) => m.data);
      expect(sent).toEqual(Array.from({ length: 20 }, (_, i) => i));
    }
  });

  it("pauses a failing key: rejects the failed and queued messages, fails later publishes fast, other keys flow, resume() unpauses", async () => {
    const paused: Array<{ key: string; ids: string[] }> = [];
    const topic = await openTopic("fake:t", {
      ordering: true,
      batching: { maxMessages: 1 },
      retry: { attempts: 2, initialDelayMs: 1, maxDelayMs: 2 },
      onPause: (event) => paused.push({ key: event.orderingKey, ids: event.messages.map((m) => m.id) }),
    });
    const driver = fake.topic();
    driver.hold = nextMacrotask;
    driver.failWith = (messages) => (messages[0]!.orderingKey === "bad" ? retryable() : undefined);

    const bad = Array.from({ length: 4 }, (_, i) => createMessage({ orderingKey: "bad", data: i }));
    const badResults = bad.map((m) => topic.publish(m));
    const good = Array.from({ length: 4 }, (_, i) => topic.publish(createMessage({ orderingKey: "good", data: i })));

    const badOutcomes = await Promise.allSettled(badResults);
    for (const outcome of badOutcomes) {
      const reason = (outcome as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(OrderingKeyPausedError);
      expect(reason.orderingKey).toBe("bad");
      expect(reason.cause).toMatchObject({ message: "broker unavailable" });
    }
    await expect(Promise.all(good)).resolves.toHaveLength(4);
    expect(paused).toEqual([{ key: "bad", ids: bad.map((m) => m.id) }]);
    expect(topic.pausedKeys()).toMatchObject([{ orderingKey: "bad" }]);

    // Fails at once while paused, without reaching the driver.
    const sendsBefore = driver.batches.length;
    driver.failWith = () => undefined;
    await expect(topic.publish(createMessage({ orderingKey: "bad", data: 99 }))).rejects.toMatchObject({
      code: ErrorCode.OrderingKeyPaused,
    });
    expect(driver.batches.length).toBe(sendsBefore);

    expect(topic.resume("bad")).toBe(true);
    expect(topic.resume("bad")).toBe(false);
    await expect(topic.publish(createMessage({ orderingKey: "bad", data: 100 }))).resolves.toBeTypeOf("string");
    expect(driver.sent.filter((m) => m.orderingKey === "bad").map((m) => m.data)).toEqual([100]);
  });

  it("rejects an ordering key on a topic without ordering", async () => {
    const topic = await openTopic("fake:t");
    await expect(topic.publish(createMessage({ orderingKey: "k" }))).rejects.toMatchObject({
      code: ErrorCode.OrderingNotEnabled,
    });
  });
});

describe("Topic middleware and options", () => {
  it("runs middleware outermost-first and lets pubAck ask the driver to confirm", async () => {
    const calls: string[] = [];
    const tag = (name: string): Middleware => ({
      name,
      publish: (next) => async (message, options) => {
        calls.push(`${name}>`);
        const id = await next(message, options);
        calls.push(`<${name}`);
        return id;
      },
    });
    const topic = await openTopic("fake:t", { use: [tag("a"), pubAck(), tag("b"), count()] });
    await topic.publish(createMessage({ data: 1 }));
    expect(calls).toEqual(["a>", "b>", "<b", "<a"]);
    expect(fake.topic().batches[0]!.options.confirm).toBe(true);
    expect(topic.stats()).toMatchObject({ published: 1, publishFailed: 0 });
  });

  it("rejects invalid options, receive-only middleware and unknown schemes with coded errors", async () => {
    await expect(openTopic("fake:t", { batching: { maxMessages: 0 } })).rejects.toMatchObject({
      code: ErrorCode.InvalidOptions,
    });
    await expect(
      openTopic("fake:t", { use: [{ name: "receiveOnly", receive: (next) => next }] }),
    ).rejects.toMatchObject({ code: ErrorCode.InvalidOptions });
    const unknown = await openTopic("kafka://x/y").catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: ErrorCode.UnknownDriver });
    expect((unknown as Error).message).toContain("eventbus:");
    await expect(openTopic("not a url")).rejects.toMatchObject({ code: ErrorCode.InvalidUrl });
  });
});
