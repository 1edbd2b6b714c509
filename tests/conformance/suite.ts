import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMessage,
  decodeEncoded,
  ErrorCode,
  openSubscription,
  openTopic,
  subAck,
  type Message,
  type ReceivedMessage,
  type Subscription,
  type SubscriptionOptions,
  type Topic,
  type TopicOptions,
} from "@whisper/core";
import { deferred, nextMacrotask } from "../support/wait";
import { driverContractTests } from "./driver-contract";
import type { ConformanceHarness, HarnessTopic } from "./harness";

/** Receives until `count` messages arrived (handler return acks via subAck unless `manual`), or fails after `ms`. */
export async function collect(
  subscription: Subscription,
  count: number,
  { ms = 20_000, onMessage }: { ms?: number; onMessage?: (m: ReceivedMessage) => unknown } = {},
): Promise<ReceivedMessage[]> {
  const received: ReceivedMessage[] = [];
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(new Error("timeout")), ms);
  try {
    await subscription.receive(
      async (message) => {
        if (received.length >= count) throw new Error("extra message after the expected count");
        received.push(message);
        await onMessage?.(message);
        if (received.length === count) stop.abort();
      },
      { signal: stop.signal },
    );
  } finally {
    clearTimeout(timer);
  }
  if (received.length < count) {
    throw new Error(`received ${received.length} of ${count} messages within ${ms} ms`);
  }
  return received;
}

/**
 * The conformance suite: every driver runs it through its harness. A test whose capability is missing is
 * skipped and its title names the reason the harness gave.
 */
export function runConformance(harness: ConformanceHarness): void {
  const caps = harness.capabilities;
  const reason = (cap: keyof typeof caps) => harness.capabilityReasons[cap] ?? `driver lacks ${cap}`;
  /** `it` that is skipped (with the reason in its title) when a capability is missing. */
  const itWith = (cap: keyof typeof caps, title: string, fn: () => Promise<void>) =>
    caps[cap] ? it(title, fn) : it.skip(`${title} — skipped: ${reason(cap)}`, fn);

  describe(`conformance: ${harness.name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    beforeAll(async () => harness.setup?.());
    afterAll(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
      await harness.teardown?.();
    });

    async function fresh(): Promise<HarnessTopic> {
      const topic = await harness.newTopic();
      if (topic.cleanup) cleanups.push(topic.cleanup);
      return topic;
    }
    async function topicOf(t: HarnessTopic, options: TopicOptions = {}): Promise<Topic> {
      const topic = await openTopic(t.topicUrl, { ...harness.topicOptions, ...options });
      cleanups.push(() => topic.close());
      return topic;
    }
    async function subscriptionOf(t: HarnessTopic, options: SubscriptionOptions = {}): Promise<Subscription> {
      const sub = await openSubscription(t.subscriptionUrl, {
        use: [subAck()],
        ...harness.subscriptionOptions,
        ...options,
      });
      cleanups.push(() => sub.close());
      return sub;
    }

    driverContractTests(harness, { fresh, track: (close) => cleanups.push(close), itWith });

    it("sends and receives many messages, each exactly as published", async () => {
      const t = await fresh();
      const sub = await subscriptionOf(t);
      const topic = await topicOf(t);
      const sent = Array.from({ length: 500 }, (_, i) =>
        createMessage({ type: "test.many", source: "/conformance", data: { i, text: `message ${i}` } }),
      );
      const receiving = collect(sub, sent.length);
      const ids = await Promise.all(sent.map((m) => topic.publish(m)));
      expect(ids).toEqual(sent.map((m) => m.id));
      const received = await receiving;
      const byId = new Map(received.map((m) => [m.id, m]));
      expect(byId.size).toBe(sent.length);
      for (const m of sent) expect(byId.get(m.id)?.data).toEqual(m.data);
    });

    it("keeps JSON, text, binary and ~1 MiB payloads intact", async () => {
      const t = await fresh();
      const sub = await subscriptionOf(t);
      const topic = await topicOf(t);
      const bytes = new Uint8Array(256).map((_, i) => i);
      const large = new Uint8Array(1_000_000).map((_, i) => (i * 31) % 251);
      const messages = [
        createMessage({ data: { nested: { list: [1, "two", null, true], unicode: "żółw 🐢" } } }),
        createMessage({ data: "plain text, with ünïcode and \"quotes\"" }),
        createMessage({ data: bytes }),
        createMessage({ data: large }),
        createMessage({ data: 42 }),
        createMessage({}),
      ];
      const receiving = collect(sub, messages.length);
      for (const m of messages) await topic.publish(m);
      const received = await receiving;
      const byId = new Map(received.map((m) => [m.id, m]));
      for (const m of messages) {
        const got = byId.get(m.id)!;
        expect(got, `message ${m.id}`).toBeDefined();
        if (m.data instanceof Uint8Array) {
          expect(got.data).toBeInstanceOf(Uint8Array);
          expect(Buffer.from(got.data as Uint8Array).equals(Buffer.from(m.data))).toBe(true);
        } else {
          expect(got.data).toEqual(m.data);
        }
      }
    });

    it("keeps every attribute and extension intact", async () => {
      const t = await fresh();
      const sub = await subscriptionOf(t);
      const topic = await topicOf(t);
      const sent = createMessage({
        type: "com.example.order.created",
        source: "https://shop.example/orders",
        subject: "order/42 ünïcode",
        time: "2026-01-02T03:04:05.678Z",
        datacontenttype: "application/json",
        dataschema: "https://shop.example/schemas/order.json",
        data: { n: 1 },
        extensions: { tenant: "acme", priority: 5, urgent: true, traceparent: "00-abc-def-01" },
      });
      const receiving = collect(sub, 1);
      await topic.publish(sent);
      const [got] = await receiving;
      for (const attribute of ["id", "source", "type", "subject", "datacontenttype", "dataschema"] as const) {
        expect(got![attribute], attribute).toBe(sent[attribute]);
      }
      expect(Date.parse(got!.time)).toBe(Date.parse(sent.time));
      expect(got!.specversion).toBe("1.0");
      // Binary modes carry extension values as strings; their text must be intact.
      for (const [name, value] of Object.entries(sent.extensions)) {
        expect(String(got!.extensions[name]), name).toBe(String(value));
      }
    });

    itWith("nack", "redelivers a nacked message with deliveryAttempt + 1", async () => {
      const t = await fresh();
      const sub = await subscriptionOf(t, { use: [] });
      const topic = await topicOf(t);
      const sent = createMessage({ data: "nack me once" });
      const attempts: number[] = [];
      const receiving = collect(sub, 2, {
        onMessage: (m) => {
          attempts.push(m.deliveryAttempt);
          if (attempts.length === 1) m.nack();
          else m.ack();
        },
      });
      await topic.publish(sent);
      await receiving;
      expect(attempts).toEqual([1, 2]);
    });

    itWith("redelivery", "redelivers a message not acked within the ack deadline", async () => {
      const t = await fresh();
      const ackDeadlineMs = harness.ackDeadlineMs ?? 500;
      const sub = await subscriptionOf(t, { use: [], ackDeadlineMs });
      const topic = await topicOf(t);
      const sent = createMessage({ data: "let my deadline pass" });
      const seen: Array<{ id: string; attempt: number }> = [];
      const receiving = collect(sub, 2, {
        ms: ackDeadlineMs * 20 + 10_000,
        onMessage: (m) => {
          seen.push({ id: m.id, attempt: m.deliveryAttempt });
          if (seen.length === 2) m.ack(); // the first delivery is left unsettled on purpose
        },
      });
      await topic.publish(sent);
      await receiving;
      expect(seen).toEqual([
        { id: sent.id, attempt: 1 },
        { id: sent.id, attempt: 2 },
      ]);
    });

    it("hands over undecoded deliveries (encodedBatches) that decode, also in another thread's copy, to the messages sent", async () => {
      const t = await fresh();
      const sub = await subscriptionOf(t, { use: [] });
      const topic = await topicOf(t);
      const sent = [
        createMessage({ type: "test.encoded", subject: "s/1", extensions: { orderingkeyish: "k", flag: "yes" }, data: { i: 1, text: "żółw 🐢" } }),
        createMessage({ data: "plain text" }),
        createMessage({ data: new Uint8Array([0, 1, 2, 255]) }),
        createMessage({}),
      ];
      const got = new Map<string, { clone: Message; attempt: number }>();
      const timer = setTimeout(() => void sub.close(), 20_000);
      // Receiving first: a driver may confirm a publish only once its subscriber settled it (HTTP respond=settled).
      const receiving = (async () => {
        for await (const batch of sub.encodedBatches()) {
          for (const d of batch) {
            const here = decodeEncoded(d.encoded);
            const clone = decodeEncoded(structuredClone(d.encoded));
            expect(clone.toJSON()).toEqual(here.toJSON());
            got.set(clone.id, { clone, attempt: d.deliveryAttempt });
            d.ack();
            d.ack();
            d.nack();
            expect(d.settlement).toBe("acked");
          }
          if (got.size >= sent.length) break;
        }
      })();
      for (const m of sent) await topic.publish(m);
      await receiving;
      clearTimeout(timer);
      for (const m of sent) {
        const { clone, attempt } = got.get(m.id)!;
        expect(attempt).toBe(1);
        expect({ ...clone.toJSON(), time: m.time }).toEqual(m.toJSON());
        expect(clone.body).toEqual(m.body);
      }
      // Nothing comes back: the next delivery is a marker sent afterwards.
      const marker = createMessage({ data: "marker" });
      const next = collect(sub, 1, { onMessage: (m) => m.ack() });
      await topic.publish(marker);
      expect((await next).map((m) => m.id)).toEqual([marker.id]);
    });

    it("refuses encodedBatches on a subscription with middleware", async () => {
      const sub = await subscriptionOf(await fresh());
      await expect(sub.encodedBatches().next()).rejects.toMatchObject({ code: ErrorCode.InvalidOptions });
    });

    it("treats a second ack, or a nack after an ack, as harmless", async () => {
      const t = await fresh();
      const sub = await subscriptionOf(t, { use: [] });
      const topic = await topicOf(t);
      const receiving = collect(sub, 2, {
        onMessage: (m) => {
          m.ack();
          m.ack();
          m.nack();
          expect(m.settlement).toBe("acked");
        },
      });
      await topic.publish(createMessage({ data: 1 }));
      await topic.publish(createMessage({ data: 2 }));
      const received = await receiving;
      expect(received.map((m) => m.data).sort()).toEqual([1, 2]);
      // Nothing comes back after the double settlement: the next delivery is a marker sent afterwards.
      const marker = createMessage({ data: "marker" });
      const next = collect(sub, 1, { onMessage: (m) => m.ack() });
      await topic.publish(marker);
      expect((await next).map((m) => m.id)).toEqual([marker.id]);
    });

    itWith("ordering", "delivers each ordering key in publish order, one at a time, keys concurrently", async () => {
      const t = await fresh();
      const sub = await subscriptionOf(t, { concurrency: 8 });
      const topic = await topicOf(t, { ordering: true });
      const keys = ["k1", "k2", "k3", "k4", "k5"];
      const perKey = 60;
      const order = new Map<string, number[]>();
      const running = new Map<string, number>();
      let maxSameKey = 0;
      let maxOverall = 0;
      let overall = 0;
      const receiving = collect(sub, keys.length * perKey, {
        onMessage: async (m) => {
          const { key, i } = m.data as { key: string; i: number };
          running.set(key, (running.get(key) ?? 0) + 1);
          overall++;
          maxSameKey = Math.max(maxSameKey, running.get(key)!);
          maxOverall = Math.max(maxOverall, overall);
          order.set(key, [...(order.get(key) ?? []), i]);
          await nextMacrotask();
          running.set(key, running.get(key)! - 1);
          overall--;
        },
      });
      const publishes: Array<PromiseLike<string>> = [];
      for (let i = 0; i < perKey; i++) {
        for (const key of keys) {
          publishes.push(topic.publish(createMessage({ orderingKey: key, data: { key, i } })));
        }
      }
      await Promise.all(publishes);
      await receiving;
      for (const key of keys) expect(order.get(key), key).toEqual(Array.from({ length: perKey }, (_, i) => i));
      expect(maxSameKey).toBe(1);
      expect(maxOverall).toBeGreaterThan(1);
    });

    const failing = harness.failingTopic;
    (failing ? it : it.skip)(
      failing
        ? "pauses an ordering key whose send fails, rejects what is queued behind it, resumes on resume()"
        : `pauses an ordering key on a failed send — skipped: ${harness.failingTopicReason ?? "no failing topic"}`,
      async () => {
        const t = await failing!();
        cleanups.push(async () => t.cleanup?.());
        const topic = await topicOf(t, {
          ordering: true,
          retry: { attempts: 2, initialDelayMs: 10, maxDelayMs: 20 },
        });
        const paused: string[] = [];
        topic.onPause((event) => paused.push(`${event.orderingKey}:${event.messages.length}`));
        const first = [1, 2, 3].map((i) => topic.publish(createMessage({ orderingKey: "stalled", data: i })));
        const outcomes = await Promise.allSettled(first);
        for (const outcome of outcomes) {
          expect(outcome.status).toBe("rejected");
          expect((outcome as PromiseRejectedResult).reason.code).toBe(ErrorCode.OrderingKeyPaused);
        }
        expect(paused).toEqual(["stalled:3"]);
        expect(topic.pausedKeys().map((p) => p.orderingKey)).toEqual(["stalled"]);
        // Fails fast while paused, even after the cause is gone.
        await t.heal();
        await expect(topic.publish(createMessage({ orderingKey: "stalled", data: 4 }))).rejects.toMatchObject({
          code: ErrorCode.OrderingKeyPaused,
        });
        const sub = await subscriptionOf(t);
        expect(topic.resume("stalled")).toBe(true);
        expect(topic.pausedKeys()).toEqual([]);
        const receiving = collect(sub, 3);
        const again = [5, 6, 7].map((i) => topic.publish(createMessage({ orderingKey: "stalled", data: i })));
        await Promise.all(again);
        const received = await receiving;
        expect(received.map((m) => m.data)).toEqual([5, 6, 7]);
      },
    );

    itWith("sharedSubscriptions", "splits messages between subscriptions of one name; other names get all", async () => {
      const t = await fresh();
      const a1 = await subscriptionOf(t, { name: "shared-a" });
      const a2 = await subscriptionOf(t, { name: "shared-a" });
      const b = await subscriptionOf(t, { name: "separate-b" });
      const topic = await topicOf(t);
      const total = 200;
      const sharedIds = new Set<string>();
      let sharedCount = 0;
      const stop = new AbortController();
      const take = (m: Message) => {
        sharedIds.add(m.id);
        sharedCount++;
        if (sharedCount === total) stop.abort();
      };
      const timer = setTimeout(() => stop.abort(), 20_000);
      const receiving = Promise.all([
        a1.receive(take, { signal: stop.signal }),
        a2.receive(take, { signal: stop.signal }),
        collect(b, total),
      ]);
      await Promise.all(Array.from({ length: total }, (_, i) => topic.publish(createMessage({ data: i }))));
      const [, , onB] = await receiving;
      clearTimeout(timer);
      expect(sharedCount).toBe(total);
      expect(sharedIds.size).toBe(total);
      expect(new Set(onB.map((m) => m.id)).size).toBe(total);
    });

    itWith("persistence", "keeps messages published while a named subscriber is away", async () => {
      const t = await fresh();
      const first = await subscriptionOf(t, { name: "durable" });
      await first.close();
      const topic = await topicOf(t);
      await Promise.all([1, 2, 3].map((i) => topic.publish(createMessage({ data: i }))));
      const again = await subscriptionOf(t, { name: "durable" });
      const received = await collect(again, 3);
      expect(received.map((m) => m.data).sort()).toEqual([1, 2, 3]);
    });

    it("stops receive() when its signal aborts and lets a running handler finish on close()", async () => {
      const t = await fresh();
      const sub = await subscriptionOf(t);
      const topic = await topicOf(t);
      const stop = new AbortController();
      const receiving = sub.receive(() => {}, { signal: stop.signal });
      stop.abort();
      await receiving; // resolves, does not hang

      const events: string[] = [];
      const started = deferred();
      const release = deferred();
      const handling = sub.receive(async () => {
        started.resolve();
        await release.promise;
        events.push("handler finished");
      });
      const published = topic.publish(createMessage({ data: "slow" }));
      await started.promise;
      const closing = sub.close().then(() => events.push("closed"));
      await nextMacrotask(); // close() is under way while the handler still runs
      release.resolve();
      await closing;
      await handling;
      expect(events).toEqual(["handler finished", "closed"]);
      expect(sub.closed).toBe(true);
      await published;
    });

    it("rejects publishing to a closed topic with TopicClosedError", async () => {
      const t = await fresh();
      const topic = await topicOf(t);
      await topic.close();
      await expect(topic.publish(createMessage({ data: 1 }))).rejects.toMatchObject({ code: ErrorCode.TopicClosed });
      await topic.close(); // idempotent
    });

    it("rejects bad input with coded errors and keeps working", async () => {
      const t = await fresh();
      const sub = await subscriptionOf(t);
      const topic = await topicOf(t);
      await expect(topic.publish({ type: "" })).rejects.toMatchObject({ code: ErrorCode.InvalidMessage });
      await expect(topic.publish({ data: { big: BigInt(1) } })).rejects.toMatchObject({
        code: ErrorCode.InvalidMessage,
      });
      await expect(topic.publish({ extensions: { "Bad-Name": "x" } })).rejects.toMatchObject({
        code: ErrorCode.InvalidMessage,
      });
      await expect(topic.publish(createMessage({ orderingKey: "k", data: 1 }))).rejects.toMatchObject({
        code: ErrorCode.OrderingNotEnabled,
      });
      const receiving = collect(sub, 1);
      await expect(topic.publish(createMessage({ data: "still fine" }))).resolves.toBeTypeOf("string");
      expect((await receiving)[0]!.data).toBe("still fine");
    });

    const unknown = harness.unknownTopic;
    ("url" in unknown ? it : it.skip)(
      "url" in unknown ? "reports an unknown topic with a coded error" : `unknown topic — skipped: ${unknown.reason}`,
      async () => {
        if (!("url" in unknown)) return;
        const outcome = await openTopic(unknown.url, harness.topicOptions)
          .then((topic) => {
            cleanups.push(() => topic.close());
            return topic.publish(createMessage({ data: 1 }));
          })
          .then(
            () => undefined,
            (error: unknown) => error,
          );
        expect(outcome).toMatchObject({ code: unknown.code });
      },
    );
  });
}
