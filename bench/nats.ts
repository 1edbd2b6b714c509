/**
 * NATS and JetStream throughput of whisper against the raw @nats-io client, measured in the same run on the
 * shared server (127.0.0.1:4222). Four figures, each the best of BENCH_ROUNDS rounds, raw and whisper
 * alternating:
 *   1. core publish of N 64-byte messages + flush;
 *   2. core publish → receive end to end (subscriber on a second connection);
 *   3. JetStream publish with pub-ack of JS_N messages, at most WINDOW in flight on both sides;
 *   4. JetStream durable receive + ack of JS_N stored messages.
 * The raw client publishes the bare payload; whisper sends it as a binary-mode CloudEvent (ce-* headers, ~230
 * bytes more per message). An informational raw run that builds and sends the same CloudEvent headers (through
 * the client's MsgHdrs; receivers read ce-id and, on JetStream, the delivery count) is printed beside each figure;
 * the ratio lines compare against the bare raw runs, as the targets were set.
 * Prints `ratio: <name> <value> (target <t>)` lines. A benchmark, not a test: it asserts nothing.
 *
 *   npm run bench:nats            (N = 200000, JS_N = 20000)
 */
import { jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import { connect, headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { createMessage, newId, openSubscription, openTopic, pubAck, subAck, wire } from "@whisper/core";
import { rawDurableConsume } from "./jetstream-baseline";

const N = Number(process.env.BENCH_N ?? 200_000);
const JS_N = Number(process.env.BENCH_JS_N ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WINDOW = 500;
const SERVER = "127.0.0.1:4222";
const PAYLOAD = new Uint8Array(64).map((_, i) => 97 + (i % 26));

const rate = (count: number, ms: number) => (count / ms) * 1000;
const fmt = (perSecond: number) => `${(perSecond / 1000).toFixed(1)} k msgs/s`;

function whenCount(target: number): { hit: () => void; done: Promise<void> } {
  let count = 0;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  return {
    hit: () => {
      if (++count === target) resolve();
    },
    done,
  };
}

/** The raw baseline's publish: the bare payload, or with the same CloudEvents headers whisper sends. */
function rawSend(nc: NatsConnection, subject: string, withHeaders: boolean): void {
  if (!withHeaders) return nc.publish(subject, PAYLOAD);
  const { headers } = wire.toBinary(createMessage({ type: "bench.event", source: "/bench", data: PAYLOAD }));
  const h = natsHeaders();
  for (const key in headers) h.append(key, headers[key]!);
  nc.publish(subject, PAYLOAD, { headers: h });
}

// 1. core publish + flush ------------------------------------------------------------------------------
async function rawPublish(nc: NatsConnection, withHeaders: boolean): Promise<number> {
  const subject = `bench.raw.${newId()}`;
  const start = performance.now();
  for (let i = 0; i < N; i++) rawSend(nc, subject, withHeaders);
  await nc.flush();
  return rate(N, performance.now() - start);
}

async function whisperPublish(): Promise<number> {
  const url = `nats://${SERVER}/bench.whisper.${newId()}`;
  const topic = await openTopic(url, { flowControl: { maxOutstandingMessages: N, maxOutstandingBytes: 1 << 30 } });
  // pubAck on a second topic sharing the pooled connection: one flush round trip after everything, like the raw run.
  const confirm = await openTopic(url, { use: [pubAck()] });
  const start = performance.now();
  for (let i = 0; i < N; i++) void topic.publish(createMessage({ type: "bench.event", source: "/bench", data: PAYLOAD }));
  await topic.flush();
  await confirm.publish(createMessage({ data: PAYLOAD }));
  const result = rate(N, performance.now() - start);
  await topic.close();
  await confirm.close();
  return result;
}

// 2. core publish → receive -----------------------------------------------------------------------------
async function rawEndToEnd(pub: NatsConnection, sub: NatsConnection, withHeaders: boolean): Promise<number> {
  const subject = `bench.e2e.raw.${newId()}`;
  const { hit, done } = whenCount(N);
  const s = sub.subscribe(subject, {
    callback: withHeaders ? (_, m) => void (m.headers?.get("ce-id") && hit()) : () => hit(),
  });
  await sub.flush();
  const start = performance.now();
  for (let i = 0; i < N; i++) rawSend(pub, subject, withHeaders);
  await pub.flush();
  await done;
  const result = rate(N, performance.now() - start);
  s.unsubscribe();
  return result;
}

async function whisperEndToEnd(): Promise<number> {
  const subject = `bench.e2e.whisper.${newId()}`;
  // "localhost" and "127.0.0.1" are different pool keys: the subscriber gets its own connection, as in the raw run.
  const sub = await openSubscription(`nats://localhost:4222/${subject}`, { maxOutstanding: 10_000, maxBatch: 1_000, concurrency: 64 });
  const topic = await openTopic(`nats://${SERVER}/${subject}`, {
    flowControl: { maxOutstandingMessages: N, maxOutstandingBytes: 1 << 30 },
  });
  const { hit, done } = whenCount(N);
  const stop = new AbortController();
  const receiving = sub.receive(() => hit(), { signal: stop.signal });
  const start = performance.now();
  for (let i = 0; i < N; i++) void topic.publish(createMessage({ type: "bench.event", source: "/bench", data: PAYLOAD }));
  await done;
  const result = rate(N, performance.now() - start);
  stop.abort();
  await receiving;
  await topic.close();
  await sub.close();
  return result;
}

// 3. JetStream publish with pub-ack ---------------------------------------------------------------------
async function rawJsPublish(nc: NatsConnection, subject: string, withHeaders: boolean): Promise<number> {
  const js = jetstream(nc);
  let next = 0;
  const start = performance.now();
  const lane = async () => {
    while (next < JS_N) {
      next++;
      if (withHeaders) {
        const message = createMessage({ type: "bench.event", source: "/bench", data: PAYLOAD });
        const { headers } = wire.toBinary(message);
        const h = natsHeaders();
        for (const key in headers) h.append(key, headers[key]!);
        await js.publish(subject, PAYLOAD, { msgID: message.id, headers: h });
      } else {
        await js.publish(subject, PAYLOAD, { msgID: newId() });
      }
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, lane));
  return rate(JS_N, performance.now() - start);
}

async function whisperJsPublish(subject: string, stream: string): Promise<number> {
  // 10 batches of 50 in flight = the raw run's window of 500.
  const topic = await openTopic(`jetstream://${SERVER}/${subject}?stream=${stream}`, {
    batching: { maxMessages: 50, maxConcurrentBatches: WINDOW / 50 },
    flowControl: { maxOutstandingMessages: JS_N, maxOutstandingBytes: 1 << 30 },
  });
  const start = performance.now();
  const all: Array<PromiseLike<string>> = new Array(JS_N);
  for (let i = 0; i < JS_N; i++) all[i] = topic.publish(createMessage({ type: "bench.event", source: "/bench", data: PAYLOAD }));
  await Promise.all(all);
  const result = rate(JS_N, performance.now() - start);
  await topic.close();
  return result;
}

// 4. JetStream durable receive + ack --------------------------------------------------------------------
async function rawJsConsume(nc: NatsConnection, stream: string, subject: string, withHeaders: boolean): Promise<number> {
  const withCloudEvent = (m: JsMsg) => Boolean(m.headers?.get("ce-id") && m.info.deliveryCount);
  return rawDurableConsume(nc, stream, subject, JS_N, `raw_${newId()}`, withHeaders ? withCloudEvent : undefined);
}

async function whisperJsConsume(stream: string, subject: string, nc: NatsConnection): Promise<number> {
  const name = `whisper_${newId()}`;
  const start = performance.now();
  const sub = await openSubscription(`jetstream://${SERVER}/${subject}?stream=${stream}`, { name, use: [subAck()] });
  const { hit, done } = whenCount(JS_N);
  const stop = new AbortController();
  const receiving = sub.receive(() => hit(), { signal: stop.signal });
  await done;
  const result = rate(JS_N, performance.now() - start);
  stop.abort();
  await receiving;
  await sub.close();
  await (await jetstreamManager(nc)).consumers.delete(stream, name).catch(() => {});
  return result;
}

// The raw connections use the option whisper's pool sets (no per-request stack capture), so the ratios
// measure whisper's own work rather than a client setting.
const pub = await connect({ servers: SERVER, noAsyncTraces: true });
const sub = await connect({ servers: SERVER, noAsyncTraces: true });
const jsm = await jetstreamManager(pub);
const id = newId();
const stream = `BENCH_${id}`;
const jsSubject = `bench.js.${id}`;
await jsm.streams.add({ name: stream, subjects: [`${jsSubject}.*`] });

const figures: Array<{ name: string; raw: number; whisper: number; target: number }> = [];
try {
  let raw = 0;
  let whisper = 0;
  let rawHeaders = 0;
  for (let i = 0; i < ROUNDS; i++) {
    raw = Math.max(raw, await rawPublish(pub, false));
    rawHeaders = Math.max(rawHeaders, await rawPublish(pub, true));
    whisper = Math.max(whisper, await whisperPublish());
  }
  console.log(`1. core publish+flush   raw ${fmt(raw)}   raw+same CE headers ${fmt(rawHeaders)}   whisper ${fmt(whisper)}`);
  figures.push({ name: "nats-publish-vs-raw", raw, whisper, target: 0.9 });

  raw = 0;
  whisper = 0;
  rawHeaders = 0;
  for (let i = 0; i < ROUNDS; i++) {
    raw = Math.max(raw, await rawEndToEnd(pub, sub, false));
    rawHeaders = Math.max(rawHeaders, await rawEndToEnd(pub, sub, true));
    whisper = Math.max(whisper, await whisperEndToEnd());
  }
  console.log(`2. core publish→receive raw ${fmt(raw)}   raw+same CE headers ${fmt(rawHeaders)}   whisper ${fmt(whisper)}`);
  figures.push({ name: "nats-end-to-end-vs-raw", raw, whisper, target: 0.85 });

  raw = 0;
  whisper = 0;
  rawHeaders = 0;
  for (let i = 0; i < ROUNDS; i++) {
    raw = Math.max(raw, await rawJsPublish(pub, `${jsSubject}.raw`, false));
    rawHeaders = Math.max(rawHeaders, await rawJsPublish(pub, `${jsSubject}.rawce`, true));
    whisper = Math.max(whisper, await whisperJsPublish(`${jsSubject}.whisper`, stream));
  }
  console.log(
    `3. JetStream publish+ack (window ${WINDOW})  raw ${fmt(raw)}   raw+same CE headers ${fmt(rawHeaders)}   whisper ${fmt(whisper)}`,
  );
  figures.push({ name: "jetstream-publish-ack-vs-raw", raw, whisper, target: 0.9 });

  raw = 0;
  whisper = 0;
  rawHeaders = 0;
  for (let i = 0; i < ROUNDS; i++) {
    raw = Math.max(raw, await rawJsConsume(pub, stream, `${jsSubject}.raw`, false));
    rawHeaders = Math.max(rawHeaders, await rawJsConsume(pub, stream, `${jsSubject}.rawce`, true));
    whisper = Math.max(whisper, await whisperJsConsume(stream, `${jsSubject}.whisper`, pub));
  }
  console.log(
    `4. JetStream durable receive+ack  raw ${fmt(raw)}   raw+same CE headers ${fmt(rawHeaders)}   whisper ${fmt(whisper)}`,
  );
  figures.push({ name: "jetstream-consume-ack-vs-raw", raw, whisper, target: 0.85 });
} finally {
  await jsm.streams.delete(stream).catch(() => {});
  await pub.close();
  await sub.close();
}
for (const f of figures) console.log(`ratio: ${f.name} ${(f.whisper / f.raw).toFixed(3)} (target ${f.target})`);
