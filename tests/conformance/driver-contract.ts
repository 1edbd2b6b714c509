import { expect, it } from "vitest";
import {
  createMessage,
  defaults,
  openTopic,
  type DriverDelivery,
  type DriverSubscription,
  type DriverTopic,
  type Message,
} from "@whisper/core";
import { resolveDriver } from "@/server/whisper/registry";
import type { ConformanceHarness, HarnessTopic } from "./harness";

/** What the suite lends the contract tests: fresh topics, cleanup, and its capability-switched `it`. */
export interface ContractContext {
  fresh(): Promise<HarnessTopic>;
  track(close: () => Promise<void>): void;
  itWith(cap: keyof ConformanceHarness["capabilities"], title: string, fn: () => Promise<void>): void;
}

/** How long a contract test waits for deliveries before it fails (the signal it receives with aborts then). */
const RECEIVE_DEADLINE_MS = 20_000;

/**
 * The driver contract of driver.ts, tested on the driver itself (go-cloud's drivertest style), below the
 * portable layer. Registered inside runConformance's describe, so every driver's conformance file runs it.
 */
export function driverContractTests(harness: ConformanceHarness, { fresh, track, itWith }: ContractContext): void {
  const caps = harness.capabilities;

  async function driverTopic(t: HarnessTopic): Promise<DriverTopic> {
    const { url, driver } = await resolveDriver(t.topicUrl);
    const topic = await driver.openTopic(url, { driver: harness.topicOptions?.driver });
    track(() => topic.close());
    return topic;
  }

  async function driverSubscription(t: HarnessTopic): Promise<DriverSubscription> {
    const { url, driver } = await resolveDriver(t.subscriptionUrl);
    const sub = await driver.openSubscription(url, {
      ackDeadlineMs: defaults.subscription.ackDeadlineMs,
      driver: harness.subscriptionOptions?.driver,
    });
    track(() => sub.close());
    return sub;
  }

  /**
   * Receives until `count` deliveries arrived, acking each at once (so senders that wait for the ack go on).
   * Every receiveBatch call must return between 1 and the asked maximum: [] is allowed only when aborted.
   */
  async function receiveAll(
    sub: DriverSubscription,
    count: number,
    settle: (d: DriverDelivery) => Promise<void> = (d) => sub.sendAcks([d.ackId]),
  ): Promise<DriverDelivery[]> {
    const deadline = AbortSignal.timeout(RECEIVE_DEADLINE_MS);
    const received: DriverDelivery[] = [];
    while (received.length < count) {
      const max = count - received.length;
      const batch = await sub.receiveBatch(max, deadline);
      if (deadline.aborted) throw new Error(`received ${received.length} of ${count} within ${RECEIVE_DEADLINE_MS} ms`);
      expect(batch.length, "a receiveBatch that was neither aborted nor closed").toBeGreaterThan(0);
      expect(batch.length).toBeLessThanOrEqual(max);
      for (const delivery of batch) {
        received.push(delivery);
        await settle(delivery);
      }
    }
    return received;
  }

  /** Sends `messages` with sendBatch while receiving them (a sender may wait for the receiver's ack). */
  async function sendAndReceive(topic: DriverTopic, sub: DriverSubscription, messages: Message[]): Promise<DriverDelivery[]> {
    const [, received] = await Promise.all([topic.sendBatch(messages, { confirm: true }), receiveAll(sub, messages.length)]);
    return received;
  }

  it("driver contract: declares exactly the capabilities the driver's test file expects", async () => {
    const t = await fresh();
    const sub = await driverSubscription(t);
    const topic = await driverTopic(t);
    expect(topic.capabilities).toEqual(caps);
    expect(sub.capabilities).toEqual(caps);
    const portable = await openTopic(t.topicUrl, harness.topicOptions);
    track(() => portable.close());
    expect(portable.capabilities).toEqual(caps);
    expect(typeof sub.isRetryable).toBe("function");
  });

  it("driver contract: receiveBatch returns [] only when aborted or closed, else 1 to maxMessages deliveries", async () => {
    const t = await fresh();
    const sub = await driverSubscription(t);
    const topic = await driverTopic(t);
    expect(await sub.receiveBatch(10, AbortSignal.abort())).toEqual([]);

    const stop = new AbortController();
    const waiting = sub.receiveBatch(10, stop.signal); // nothing was sent: it waits
    stop.abort();
    expect(await waiting).toEqual([]);

    const sent = Array.from({ length: 5 }, (_, i) => createMessage({ data: i }));
    const sending = topic.sendBatch(sent, { confirm: true });
    const first = await sub.receiveBatch(2, AbortSignal.timeout(RECEIVE_DEADLINE_MS));
    expect(first.length).toBeGreaterThanOrEqual(1);
    expect(first.length).toBeLessThanOrEqual(2);
    await sub.sendAcks(first.map((d) => d.ackId));
    const rest = await receiveAll(sub, sent.length - first.length);
    await sending;
    expect(new Set([...first, ...rest].map((d) => d.message.id))).toEqual(new Set(sent.map((m) => m.id)));

    const pending = sub.receiveBatch(10, new AbortController().signal); // waits until close()
    await sub.close();
    expect(await pending).toEqual([]);
    expect(await sub.receiveBatch(10, new AbortController().signal)).toEqual([]);
  });

  it("driver contract: unknown and duplicate ack ids are ignored without an error", async () => {
    const t = await fresh();
    const sub = await driverSubscription(t);
    const topic = await driverTopic(t);
    const [delivery] = await sendAndReceive(topic, sub, [createMessage({ data: "acked twice" })]);
    const unknown = [{}, "not an ack id", 42, null, undefined, Symbol("foreign")];
    await sub.sendAcks([delivery!.ackId, delivery!.ackId]);
    await sub.sendAcks(unknown);
    await sub.sendNacks(unknown, 0);
    await sub.sendNacks([delivery!.ackId], 0); // already acked: not handed back
    // The driver still works, and what comes next is the next message, not the settled one again.
    const next = createMessage({ data: "next" });
    const [after] = await sendAndReceive(topic, sub, [next]);
    expect(after!.message.id).toBe(next.id);
  });

  it("driver contract: close() is idempotent, for topics and subscriptions, also when called concurrently", async () => {
    const t = await fresh();
    const sub = await driverSubscription(t);
    const topic = await driverTopic(t);
    await Promise.all([sub.close(), sub.close(), topic.close(), topic.close()]);
    await sub.close();
    await topic.close();
    expect(await sub.receiveBatch(10, new AbortController().signal)).toEqual([]);
  });

  it(
    caps.nack
      ? "driver contract: sendNacks hands a delivery back: it is delivered again with deliveryAttempt + 1"
      : "driver contract: sendNacks on a driver without nack acts as an ack: the message is not delivered again",
    async () => {
      const t = await fresh();
      const sub = await driverSubscription(t);
      // The portable topic sends: on drivers whose redelivery is the sender's retry (HTTP), it does the resend.
      const topic = await openTopic(t.topicUrl, { ...harness.topicOptions, retry: { initialDelayMs: 1, maxDelayMs: 10 } });
      track(() => topic.close());
      const nacked = createMessage({ data: "nack me" });
      const publishing = topic.publish(nacked);
      const [first] = await receiveAll(sub, 1, (d) => sub.sendNacks([d.ackId], 0));
      expect(first!.message.id).toBe(nacked.id);
      if (caps.nack) {
        const [again] = await receiveAll(sub, 1);
        expect(again!.message.id).toBe(nacked.id);
        expect(again!.deliveryAttempt).toBe(first!.deliveryAttempt + 1);
        await publishing;
      } else {
        await publishing;
        const marker = createMessage({ data: "marker" });
        const published = topic.publish(marker);
        const [next] = await receiveAll(sub, 1);
        expect(next!.message.id).toBe(marker.id);
        await published;
      }
    },
  );

  itWith(
    "ordering",
    "driver contract: sendBatch never reorders: batches of one ordering key arrive in batch order",
    async () => {
      const t = await fresh();
      const sub = await driverSubscription(t);
      const topic = await driverTopic(t);
      const batches = [0, 1].map((b) =>
        Array.from({ length: 20 }, (_, i) => createMessage({ orderingKey: "k", data: b * 20 + i })),
      );
      const receiving = receiveAll(sub, 40);
      for (const batch of batches) await topic.sendBatch(batch, { confirm: true });
      const received = await receiving;
      expect(received.map((d) => d.message.id)).toEqual(batches.flat().map((m) => m.id));
    },
  );
}
