/**
 * Redis Streams, RabbitMQ and MQTT throughput of whisper against each broker's raw client sending the same
 * CloudEvent in that broker's binding (the raw runs build every message with createMessage and encode it with the
 * same binding functions, so both sides carry identical bytes), measured in the same run on the shared servers
 * (Redis 6379, RabbitMQ 5672, Mosquitto 1883). Per broker, the best of BENCH_ROUNDS rounds, raw and whisper
 * alternating (and taking turns at going first); each figure line also shows the whisper/raw ratio of every round:
 *   publish          N messages published, all in flight, until the broker acknowledged every one
 *                    (XADD reply / publisher confirm / PUBACK);
 *   publish→receive  the same with a subscriber on another connection that receives and acks every message.
 * Raw receivers decode each event with the same binding function whisper uses (a raw client that receives
 * CloudEvents has to), and ack it where the protocol has acks.
 * Prints `ratio: <name> <value> (target <t>; median of rounds <m>)` lines: the value is best whisper ÷ best raw,
 * as in the other benchmarks; the median of the rounds' own ratios beside it is the steadier figure on a busy
 * machine, where one round of either side can run at half speed. A benchmark, not a test: it asserts nothing.
 *
 *   npm run bench:brokers     (BENCH_N=20000 per broker, BENCH_ROUNDS=5, BENCH_BROKERS=redis,amqp,mqtt)
 */
import { connect as amqpConnect, type Channel, type ConfirmChannel } from "amqplib";
import { Redis } from "ioredis";
import { connectAsync, type MqttClient } from "mqtt";
import { createMessage, newId, openSubscription, openTopic, subAck, type Message } from "@whisper/core";
import { decodeMessage as amqpDecode, encodeMessage as amqpEncode } from "../server/whisper/drivers/amqp/codec";
import { decodeMessage as mqttDecode, encodeMessage as mqttEncode } from "../server/whisper/drivers/mqtt/codec";
import { decodeEntry, encodeEntry } from "../server/whisper/drivers/redis/codec";

const N = Number(process.env.BENCH_N ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BROKERS = (process.env.BENCH_BROKERS ?? "redis,amqp,mqtt").split(",");
/**
 * How far an MQTT publish→receive run's publisher may run ahead of its subscriber (both sides): Mosquitto queues
 * at most 1000 QoS 1 messages per subscriber beyond its 20 in flight (max_queued_messages) and drops the rest, so
 * a publisher further ahead would lose messages on the raw side and the whisper side alike.
 */
const MQTT_WINDOW = 500;
/** A run that has not received everything by then fails (the benchmark never hangs). */
const RUN_DEADLINE_MS = 60_000;
const PAYLOAD = { order: 42, item: "bench", note: "a small JSON payload of about 64 bytes" };

const rate = (ms: number) => (N / ms) * 1000;
const fmt = (perSecond: number) => `${(perSecond / 1000).toFixed(1)} k msgs/s`;
const event = (): Message => createMessage({ type: "bench.event", source: "/bench", data: PAYLOAD });

/**
 * Counts arrivals: `done` resolves at `target` (rejects after RUN_DEADLINE_MS); `room(sent, window)` resolves once
 * fewer than `window` of `sent` messages are still on their way (a publisher that never runs ahead of its
 * subscriber by more than the window).
 */
function counter(target: number, what: string): { hit: () => void; done: Promise<void>; room: (sent: number, window: number) => Promise<void> } {
  let count = 0;
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  let waiter: { below: number; resolve: () => void } | undefined;
  const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  const timer = setTimeout(() => reject(new Error(`${what}: received ${count} of ${target} within ${RUN_DEADLINE_MS} ms`)), RUN_DEADLINE_MS);
  return {
    hit: () => {
      count++;
      if (waiter !== undefined && count > waiter.below) {
        const w = waiter;
        waiter = undefined;
        w.resolve();
      }
      if (count !== target) return;
      clearTimeout(timer);
      resolve();
    },
    done,
    room: (sent, window) =>
      sent - count < window ? Promise.resolve() : new Promise<void>((r) => (waiter = { below: sent - window, resolve: r })),
  };
}

const topicOptions = { flowControl: { maxOutstandingMessages: N, maxOutstandingBytes: 1 << 30 } };
const subscriptionOptions = { use: [subAck()], maxOutstanding: 2_000, maxBatch: 500, concurrency: 64 };

/** whisper: publish N, all in flight, resolve when every publish resolved. */
async function whisperPublish(url: string): Promise<number> {
  const topic = await openTopic(url, topicOptions);
  const start = performance.now();
  await Promise.all(Array.from({ length: N }, () => topic.publish(event())));
  const result = rate(performance.now() - start);
  await topic.close();
  return result;
}

/** whisper: a subscription on `subUrl` (another connection) receiving and acking N messages published to `url`. */
async function whisperEndToEnd(url: string, subUrl: string, name?: string, window = N): Promise<number> {
  const sub = await openSubscription(subUrl, { ...subscriptionOptions, name });
  const topic = await openTopic(url, topicOptions);
  const { hit, done, room } = counter(N, `whisper ${url}`);
  const stop = new AbortController();
  const receiving = sub.receive(() => hit(), { signal: stop.signal });
  const start = performance.now();
  for (let i = 0; i < N; i++) {
    if (window < N) await room(i, window);
    void topic.publish(event());
  }
  await done;
  const result = rate(performance.now() - start);
  stop.abort();
  await receiving;
  await Promise.all([topic.close(), sub.close()]);
  return result;
}

// Redis Streams -----------------------------------------------------------------------------------------
async function redisRawPublish(redis: Redis, stream: string): Promise<number> {
  const start = performance.now();
  await Promise.all(Array.from({ length: N }, () => redis.xadd(stream, "*", ...encodeEntry(event()))));
  return rate(performance.now() - start);
}

async function redisRawEndToEnd(pub: Redis, sub: Redis, stream: string): Promise<number> {
  await sub.xgroup("CREATE", stream, "raw", "$", "MKSTREAM");
  const { hit, done } = counter(N, "raw redis");
  let received = 0;
  const reading = (async () => {
    while (received < N) {
      const reply = (await sub.xreadgroupBuffer("GROUP", "raw", "c", "COUNT", 500, "BLOCK", 1000, "STREAMS", stream, ">")) as
        | Array<[Buffer, Array<[Buffer, Buffer[]]>]>
        | null;
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) continue;
      await pub.xack(stream, "raw", ...entries.map(([id]) => id));
      for (const [id, fields] of entries) {
        decodeEntry(fields, { source: "redis://127.0.0.1:6379", stream, entryId: id.toString() });
        received++;
        hit();
      }
    }
  })();
  const start = performance.now();
  for (let i = 0; i < N; i++) void pub.xadd(stream, "*", ...encodeEntry(event()));
  await done;
  const result = rate(performance.now() - start);
  await reading;
  return result;
}

// RabbitMQ ----------------------------------------------------------------------------------------------
async function amqpRawPublish(channel: ConfirmChannel, exchange: string): Promise<number> {
  const start = performance.now();
  const confirms: Array<Promise<void>> = [];
  for (let i = 0; i < N; i++) {
    const wire = amqpEncode(event());
    let room = true;
    confirms.push(
      new Promise<void>((resolve, reject) => {
        room = channel.publish(exchange, "", wire.body, { headers: wire.headers, contentType: wire.contentType, messageId: wire.messageId, persistent: true }, (e: unknown) =>
          e ? reject(e) : resolve(),
        );
      }),
    );
    if (!room) await new Promise((resolve) => channel.once("drain", resolve));
  }
  await Promise.all(confirms);
  return rate(performance.now() - start);
}

/** Publishes N with confirms while a consumer on another connection acks them; resolves when all arrived. */
async function amqpRawEndToEnd(pub: ConfirmChannel, sub: Channel, exchange: string): Promise<number> {
  const queue = `${exchange}.raw`;
  await sub.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "quorum" } });
  await sub.bindQueue(queue, exchange, "");
  await sub.prefetch(500);
  const { hit, done } = counter(N, "raw amqp");
  const { consumerTag } = await sub.consume(queue, (m) => {
    if (m === null) return;
    amqpDecode({ body: m.content, headers: m.properties.headers ?? {}, contentType: m.properties.contentType, messageId: m.properties.messageId }, { source: "amqp://127.0.0.1:5672" });
    sub.ack(m);
    hit();
  });
  const start = performance.now();
  await amqpRawPublish(pub, exchange);
  await done;
  const result = rate(performance.now() - start);
  await sub.cancel(consumerTag);
  await sub.deleteQueue(queue);
  return result;
}

// MQTT --------------------------------------------------------------------------------------------------
function mqttRawSend(client: MqttClient, topic: string): Promise<void> {
  const wire = mqttEncode(event());
  return new Promise<void>((resolve, reject) =>
    client.publish(topic, wire.payload, { qos: 1, properties: { userProperties: wire.userProperties, contentType: wire.contentType } }, (e) =>
      e ? reject(e) : resolve(),
    ),
  );
}

async function mqttRawPublish(client: MqttClient, topic: string): Promise<number> {
  const start = performance.now();
  await Promise.all(Array.from({ length: N }, () => mqttRawSend(client, topic)));
  return rate(performance.now() - start);
}

async function mqttRawEndToEnd(pub: MqttClient, sub: MqttClient, topic: string): Promise<number> {
  const { hit, done, room } = counter(N, "raw mqtt");
  const onMessage = (t: string, payload: Buffer, packet: { properties?: { userProperties?: Record<string, string | string[]>; contentType?: string } }) => {
    mqttDecode({ payload, userProperties: packet.properties?.userProperties ?? {}, contentType: packet.properties?.contentType }, { source: "mqtt://127.0.0.1:1883", topic: t });
    hit();
  };
  sub.on("message", onMessage);
  await sub.subscribeAsync(topic, { qos: 1 });
  const start = performance.now();
  for (let i = 0; i < N; i++) {
    await room(i, MQTT_WINDOW);
    void mqttRawSend(pub, topic);
  }
  await done;
  const result = rate(performance.now() - start);
  sub.off("message", onMessage);
  await sub.unsubscribeAsync(topic);
  return result;
}

// -------------------------------------------------------------------------------------------------------
interface Figure {
  name: string;
  raw: number;
  whisper: number;
  target: number;
  /** The median of the rounds' whisper ÷ raw ratios. */
  medianRatio: number;
}
const figures: Figure[] = [];

async function measure(name: string, target: number, raw: () => Promise<number>, whisper: () => Promise<number>): Promise<void> {
  let bestRaw = 0;
  let bestWhisper = 0;
  const paired: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    // Which side goes first alternates, so neither always runs right after the other's cleanup (queue deletions).
    let rawRate: number;
    let whisperRate: number;
    if (i % 2 === 0) {
      rawRate = await raw();
      whisperRate = await whisper();
    } else {
      whisperRate = await whisper();
      rawRate = await raw();
    }
    bestRaw = Math.max(bestRaw, rawRate);
    bestWhisper = Math.max(bestWhisper, whisperRate);
    paired.push(whisperRate / rawRate);
  }
  const rounds = paired.map((r) => r.toFixed(2)).join(" ");
  console.log(`${name.padEnd(24)} raw ${fmt(bestRaw)}   whisper ${fmt(bestWhisper)}   (whisper/raw per round: ${rounds})`);
  const sorted = [...paired].sort((a, b) => a - b);
  const medianRatio = sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  figures.push({ name, raw: bestRaw, whisper: bestWhisper, target, medianRatio });
}

const redisStreams: string[] = [];
const fresh = (prefix: string) => {
  const name = `bench.${prefix}.${newId()}`;
  redisStreams.push(name);
  return name;
};

console.log(`N = ${N} per run, best of ${ROUNDS} rounds`);
if (BROKERS.includes("redis")) {
const redisPub = new Redis(6379, "127.0.0.1");
const redisSub = new Redis(6379, "127.0.0.1");
await measure("redis publish", 0.9, () => redisRawPublish(redisPub, fresh("raw")), () => whisperPublish(`redis://127.0.0.1:6379/${fresh("w")}`));
await measure(
  "redis publish→receive",
  0.85,
  () => redisRawEndToEnd(redisPub, redisSub, fresh("raw")),
  // "localhost" is another pool key than "127.0.0.1": the subscription's commands use another connection, as in the raw run.
  async () => {
    const stream = fresh("w");
    return whisperEndToEnd(`redis://127.0.0.1:6379/${stream}`, `redis://localhost:6379/${stream}`);
  },
);
await redisPub.del(...redisStreams);
redisPub.disconnect();
redisSub.disconnect();
}

if (BROKERS.includes("amqp")) {
const amqp = await amqpConnect("amqp://127.0.0.1:5672");
const amqpConsumer = await amqpConnect("amqp://127.0.0.1:5672");
const confirm = await amqp.createConfirmChannel();
const consumer = await amqpConsumer.createChannel();
const exchanges: string[] = [];
const exchange = async () => {
  const name = `bench.${newId()}`;
  exchanges.push(name);
  await confirm.assertExchange(name, "fanout", { durable: true });
  return name;
};
await measure("amqp publish", 0.9, async () => amqpRawPublish(confirm, await exchange()), async () => whisperPublish(`amqp://127.0.0.1:5672/${await exchange()}`));
await measure(
  "amqp publish→receive",
  0.85,
  async () => amqpRawEndToEnd(confirm, consumer, await exchange()),
  async () => {
    const name = await exchange();
    const result = await whisperEndToEnd(`amqp://127.0.0.1:5672/${name}`, `amqp://localhost:5672/${name}`, "bench");
    await consumer.deleteQueue(`${name}.bench`);
    return result;
  },
);
for (const name of exchanges) await confirm.deleteExchange(name);
await amqp.close();
await amqpConsumer.close();
}

if (BROKERS.includes("mqtt")) {
const mqttPub = await connectAsync("mqtt://127.0.0.1:1883", { protocolVersion: 5 });
const mqttSub = await connectAsync("mqtt://127.0.0.1:1883", { protocolVersion: 5 });
await measure("mqtt publish", 0.9, () => mqttRawPublish(mqttPub, `bench/raw/${newId()}`), () => whisperPublish(`mqtt://127.0.0.1:1883/bench/w/${newId()}`));
await measure(
  "mqtt publish→receive",
  0.85,
  () => mqttRawEndToEnd(mqttPub, mqttSub, `bench/raw/${newId()}`),
  async () => {
    const topic = `bench/w/${newId()}`;
    return whisperEndToEnd(`mqtt://127.0.0.1:1883/${topic}`, `mqtt://127.0.0.1:1883/${topic}`, undefined, MQTT_WINDOW);
  },
);
await mqttPub.endAsync();
await mqttSub.endAsync();
}

for (const f of figures) {
  console.log(`ratio: ${f.name} ${(f.whisper / f.raw).toFixed(3)} (target ${f.target}; median of rounds ${f.medianRatio.toFixed(3)})`);
}
process.exit(0);
