import { connect, type ChannelModel } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMessage, ErrorCode, newId, openSubscription, openTopic, subAck } from "@whisper/core";
import type { ReceivedMessage, SubscriptionOptions } from "@whisper/core";
import { collect } from "../conformance/suite";
import { AmqpClientTap } from "../support/amqp-tap";
import { expectNothingLostAcrossCuts, expectUnreachableAtOpen } from "../support/broker-faults";
import { TcpProxy } from "../support/tcp-proxy";
import { waitFor } from "../support/wait";

const SERVER = "amqp://127.0.0.1:5672";
let admin: ChannelModel;
const exchanges: string[] = [];
const fresh = () => {
  const exchange = `it.amqp.${newId()}`;
  exchanges.push(exchange);
  return exchange;
};

beforeAll(async () => {
  admin = await connect(SERVER);
  admin.on("error", () => {});
});
afterAll(async () => {
  const channel = await admin.createChannel();
  for (const exchange of exchanges) {
    await channel.deleteQueue(`${exchange}.survivor`).catch(() => {});
    await channel.deleteExchange(exchange).catch(() => {});
  }
  await admin.close();
});

describe("amqp:// URLs", () => {
  it("rejects unknown settings, bad values and a missing exchange with coded errors", async () => {
    await expect(openTopic(`${SERVER}/x?prefetsh=5`)).rejects.toMatchObject({ code: ErrorCode.InvalidUrl });
    await expect(openTopic(`${SERVER}/x?exchangeType=round-robin`)).rejects.toMatchObject({ code: ErrorCode.InvalidUrl });
    await expect(openSubscription(`${SERVER}/x?prefetch=0`)).rejects.toMatchObject({ code: ErrorCode.InvalidUrl });
    await expect(openTopic(SERVER)).rejects.toMatchObject({ code: ErrorCode.InvalidUrl });
    await expect(openTopic(`${SERVER}/x`, { driver: { durable: true } })).rejects.toMatchObject({ code: ErrorCode.InvalidOptions });
  });

  it("routes by routingKey/bindingKey on a topic exchange", async () => {
    const exchange = fresh();
    const base = `${SERVER}/${exchange}?exchangeType=topic`;
    const eu = await openSubscription(`${base}&bindingKey=orders.eu.*`, { use: [subAck()] });
    const receiving = collect(eu, 1);
    const us = await openTopic(`${base}&routingKey=orders.us.created`);
    const euTopic = await openTopic(`${base}&routingKey=orders.eu.created`);
    await us.publish(createMessage({ data: "us" }));
    await euTopic.publish(createMessage({ data: "eu" }));
    expect((await receiving).map((m) => m.data)).toEqual(["eu"]);
    await Promise.all([eu.close(), us.close(), euTopic.close()]);
  });
});

describe("amqp faults", () => {
  it("an unreachable broker at open is a connection error naming it", async () => {
    await expectUnreachableAtOpen((port) => `amqp://127.0.0.1:${port}/x`, /AMQP broker/);
  });

  it("reconnects after the connections drop mid-stream, and loses nothing that was confirmed", async () => {
    const exchange = fresh();
    const outcome = await expectNothingLostAcrossCuts({ brokerPort: 5672, url: (port) => `amqp://127.0.0.1:${port}/${exchange}` });
    expect(outcome.received).toBe(300);
  });
});

/**
 * A subscription named "survivor" whose connection goes through a TcpProxy with an AMQP frame tap, its errors
 * collected, and a topic on the same exchange that talks to the broker directly (only the subscription's
 * connection goes through the proxy).
 */
async function tappedSubscription(options: SubscriptionOptions) {
  const exchange = fresh();
  const tap = new AmqpClientTap();
  const proxy = await TcpProxy.start(5672, "127.0.0.1", { clientToServer: tap.stream });
  const errors: unknown[] = [];
  const sub = await openSubscription(`amqp://127.0.0.1:${proxy.port}/${exchange}`, {
    name: "survivor",
    onError: (error) => errors.push(error),
    ...options,
  });
  const topic = await openTopic(`${SERVER}/${exchange}`);
  return { tap, proxy, errors, sub, topic };
}

describe("amqp consumer reopening", () => {
  it("reopens a named subscription's channel after the broker closes it, and after a drop during the reopening; loses nothing confirmed", async () => {
    const { tap, proxy, errors, sub, topic } = await tappedSubscription({ use: [subAck()] });
    const received = new Set<string>();
    const receiving = sub.receive((m) => void received.add(m.id));
    const published: string[] = [];
    const publish = async (count: number) => {
      for (let i = 0; i < count; i++) published.push(await topic.publish(createMessage({ data: { i: published.length } })));
    };
    const allReceived = (what: string) =>
      waitFor(() => published.every((id) => received.has(id)), { timeoutMs: 20_000, everyMs: 20, what: `${what} (${received.size} of ${published.length} received)` });
    try {
      await publish(100);
      await allReceived("messages before any fault");
      expect(tap.consumes).toBe(1);

      // A channel error while nothing is being delivered (the broker closes the consumer's channel, the connection
      // stays): the channel is reopened. (Under traffic RabbitMQ may still send deliveries of the closed channel,
      // which amqplib treats as a connection error: that case is the connection drop below.)
      tap.rejectOnBroker();
      await waitFor(() => tap.consumes === 2, { what: "the consumer reopened after the channel error" });
      await publish(100);
      await allReceived("messages after the broker closed the channel");
      expect(tap.consumes).toBe(2);
      expect(proxy.connections).toBe(1);

      // The connection drops, and drops again the moment the reopened channel asks to consume.
      tap.onConsume = () => {
        tap.onConsume = undefined;
        proxy.cut();
      };
      proxy.cut();
      await publish(100);
      await allReceived("messages after two connection drops, one during the reopening");
      expect(tap.consumes).toBeGreaterThanOrEqual(4);
      expect(proxy.connections).toBeGreaterThanOrEqual(3);
      expect(published).toHaveLength(300);
      // A dropped connection fails the reopening in flight: the subscription heard it and retried.
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.every((e) => (e as { code?: string }).code === ErrorCode.Disconnected || (e as { code?: string }).code === ErrorCode.Connection)).toBe(true);
    } finally {
      await topic.close();
      await sub.close();
      await receiving;
      await proxy.close();
    }
  });

  it("ends receive() with NotFoundError when the broker cancels the consumer because its queue was deleted", async () => {
    const exchange = fresh();
    const sub = await openSubscription(`${SERVER}/${exchange}`, { name: "survivor", use: [subAck()] });
    const receiving = sub.receive(() => {});
    const channel = await admin.createChannel();
    await channel.deleteQueue(`${exchange}.survivor`);
    await channel.close();
    await expect(receiving).rejects.toMatchObject({ code: ErrorCode.NotFound });
    await sub.close();
  });
});

describe("amqp acks", () => {
  it("acks in few frames without touching deliveries still owed a settlement: delayed nacks come back, the channel stays open", async () => {
    const { tap, proxy, errors, sub, topic } = await tappedSubscription({ concurrency: 8 });
    const total = 200;
    const nackedOnce = new Set([3, 50, 51, 120, 199]);
    const attempts = new Map<number, number[]>();
    const stop = new AbortController();
    const receiving = sub.receive(
      (m) => {
        const i = (m.data as { i: number }).i;
        attempts.set(i, [...(attempts.get(i) ?? []), m.deliveryAttempt]);
        if (nackedOnce.has(i) && m.deliveryAttempt === 1) m.nack(1_000);
        else m.ack();
        if (attempts.size === total && [...nackedOnce].every((n) => attempts.get(n)!.length === 2)) stop.abort();
      },
      { signal: stop.signal },
    );
    try {
      // Two waves: the second one's acks are sent while the first one's delayed nacks are still waiting.
      const publish = (from: number, to: number) =>
        Promise.all(Array.from({ length: to - from }, (_, k) => topic.publish(createMessage({ data: { i: from + k } }))));
      await publish(0, total / 2);
      await waitFor(() => attempts.size >= total / 2, { what: "the first wave handled" });
      await publish(total / 2, total);
      await waitFor(() => stop.signal.aborted, { timeoutMs: 20_000, everyMs: 20, what: "every message handled, the nacked ones twice" });
      await receiving;
      for (const [i, seen] of attempts) expect(seen, `message ${i}`).toEqual(nackedOnce.has(i) ? [1, 2] : [1]);
      expect(tap.consumes).toBe(1);
      expect(errors).toEqual([]);
    } finally {
      await topic.close();
      await sub.close();
      await proxy.close();
    }
  });
});

describe("amqp interop (CloudEvents AMQP binding)", () => {
  it("receives binary-mode events a raw client published, with either property prefix, and plain messages", async () => {
    const exchange = fresh();
    const sub = await openSubscription(`${SERVER}/${exchange}`, { use: [subAck()] });
    const receiving = collect(sub, 3);
    const channel = await admin.createConfirmChannel();
    const headers = (prefix: string, id: string) => ({
      [`${prefix}specversion`]: "1.0", [`${prefix}id`]: id, [`${prefix}source`]: "/raw", [`${prefix}type`]: "raw.event",
      [`${prefix}time`]: { "!": "timestamp", value: Date.parse("2026-01-02T03:04:05Z") / 1000 }, [`${prefix}tenant`]: "acme", [`${prefix}priority`]: 5,
    });
    channel.publish(exchange, "", Buffer.from('{"n":1}'), { contentType: "application/json", headers: headers("cloudEvents:", "raw-colon") });
    channel.publish(exchange, "", Buffer.from("hello"), { contentType: "text/plain", headers: headers("cloudEvents_", "raw-underscore") });
    channel.publish(exchange, "", Buffer.from("just bytes"), { messageId: "plain-1" });
    await channel.waitForConfirms();
    await channel.close();
    const byId = new Map((await receiving).map((m: ReceivedMessage) => [m.id, m]));
    await sub.close();
    expect(byId.get("raw-colon")).toMatchObject({ source: "/raw", type: "raw.event", data: { n: 1 }, time: "2026-01-02T03:04:05.000Z" });
    expect(byId.get("raw-colon")!.extensions).toMatchObject({ tenant: "acme", priority: 5 });
    expect(byId.get("raw-underscore")).toMatchObject({ type: "raw.event", data: "hello" });
    expect(byId.get("plain-1")).toMatchObject({ type: "amqp.message", datacontenttype: "application/octet-stream" });
  });

  it("publishes messages a raw client reads in the binding's binary mode", async () => {
    const exchange = fresh();
    const topic = await openTopic(`${SERVER}/${exchange}`);
    const channel = await admin.createChannel();
    const { queue } = await channel.assertQueue("", { exclusive: true });
    await channel.bindQueue(queue, exchange, "");
    const sent = createMessage({ type: "t.x", source: "/w", subject: "s ü", data: { ok: true }, extensions: { tenant: "acme" } });
    await topic.publish(sent);
    await topic.close();
    const got = await new Promise<import("amqplib").ConsumeMessage>((resolve) => void channel.consume(queue, (m) => m && resolve(m), { noAck: true }));
    await channel.close();
    expect(got.properties.contentType).toBe("application/json");
    expect(got.properties.messageId).toBe(sent.id);
    expect(got.properties.deliveryMode).toBe(2);
    expect(got.properties.headers).toMatchObject({
      "cloudEvents:specversion": "1.0", "cloudEvents:id": sent.id, "cloudEvents:type": "t.x", "cloudEvents:source": "/w",
      "cloudEvents:subject": "s ü", "cloudEvents:tenant": "acme",
    });
    expect(got.content.toString()).toBe('{"ok":true}');
  });
});
