/**
 * The gRPC sidecar against baselines measured in the same run:
 * - publish: PublishBatch of 100 events on 8 concurrent streams (one HTTP/2 connection each) into the dashboard
 *   (`next start` of the production build, in-process bus, history recorded to Postgres) vs the same events
 *   posted as CloudEvents batches of 100 to the HTTP ingest route (POST /api/topics/{topic}/events) by 8
 *   concurrent callers. Rounds alternate; each figure is the best round.
 * - subscribe: N events published on the in-process bus, received through a Subscribe stream (max in flight
 *   1,000, acks batched per turn of the event loop) from a sidecar served in this process, vs a core
 *   subscription in this process receiving the same number (handler acks).
 * Prints `ratio: <name> <value> (target <t>)` lines. A benchmark, not a test: it asserts nothing.
 *
 *   npm run bench:sidecar                          (BENCH_EVENTS=20000 per publish round, BENCH_N=50000)
 */
import { create } from "@bufbuild/protobuf";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createMessage, openSubscription, openTopic } from "@whisper/core";
import { loadSidecarConfig } from "@/server/config";
import { PubSubService, SubscribeRequestSchema, type SubscribeRequest } from "@/server/sidecar/gen/whisper/v1/sidecar_pb";
import { CloudEventSchema } from "@/server/sidecar/gen/io/cloudevents/v1/cloudevents_pb";
import { startSidecarServer } from "@/server/sidecar/server";
import { StandaloneBackend } from "@/server/sidecar/standalone-backend";
import { createSchema, ensureBuilt, eventually, startApp } from "../tests/support/app";
import { freePort } from "../tests/support/net";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const N = Number(process.env.BENCH_N ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = 100;
const STREAMS = 8;
const TOKEN = "bench-sidecar-admin-token-0123";
const DATA = JSON.stringify({ order: 123456, customer: "customer-42", items: [{ sku: "A-1", qty: 2 }, { sku: "B-7", qty: 1 }], note: "x".repeat(60) });

function rate(count: number, ms: number): number {
  return (count / ms) * 1000;
}

/** Runs `batches` calls of `send(round, i)` on STREAMS concurrent workers; events/s. */
async function concurrently(batches: number, send: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: STREAMS }, async () => {
      for (let i = next++; i < batches; i = next++) await send(i);
    }),
  );
  return rate(batches * BATCH, performance.now() - start);
}

async function publishPhase(figures: string[]): Promise<void> {
  await ensureBuilt();
  const schema = await createSchema("sidecar_bench");
  const grpcPort = await freePort();
  const app = await startApp({ databaseUrl: schema.databaseUrl, token: TOKEN, topics: "bench.grpc,bench.http", env: { WHISPER_GRPC_PORT: String(grpcPort) } });
  try {
    await eventually(async () => (/gRPC sidecar at/.test(app.output()) ? true : undefined), "the sidecar to listen");
    const clients: Array<Client<typeof PubSubService>> = Array.from({ length: STREAMS }, () =>
      createClient(PubSubService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${grpcPort}` })),
    );
    const headers = { authorization: `Bearer ${TOKEN}` };
    const batches = Math.ceil(EVENTS / BATCH);
    const grpcRound = (round: number) =>
      concurrently(batches, async (i) => {
        const events = Array.from({ length: BATCH }, (_, k) =>
          create(CloudEventSchema, {
            id: `g${round}-${i}-${k}`,
            source: "/bench",
            specVersion: "1.0",
            type: "bench.event",
            attributes: { datacontenttype: { attr: { case: "ceString", value: "application/json" } } },
            data: { case: "textData", value: DATA },
          }),
        );
        const { outcomes } = await clients[i % STREAMS]!.publishBatch({ topic: "bench.grpc", events }, { headers });
        if (outcomes.some((o) => o.error)) throw new Error(`gRPC publish failed: ${outcomes.find((o) => o.error)!.error!.message}`);
      });
    const httpRound = (round: number) =>
      concurrently(batches, async (i) => {
        const body = `[${Array.from({ length: BATCH }, (_, k) => `{"specversion":"1.0","id":"h${round}-${i}-${k}","source":"/bench","type":"bench.event","datacontenttype":"application/json","data":${DATA}}`).join(",")}]`;
        const response = await app.api("/api/topics/bench.http/events", { method: "POST", headers: { "content-type": "application/cloudevents-batch+json" }, body });
        const json = (await response.json()) as { results?: Array<{ status: string }> };
        if (response.status !== 202 || json.results?.some((r) => r.status !== "published")) throw new Error(`HTTP publish answered ${response.status}`);
      });
    await grpcRound(-1);
    await httpRound(-1);
    let grpc = 0;
    let http = 0;
    for (let round = 0; round < ROUNDS; round++) {
      http = Math.max(http, await httpRound(round));
      grpc = Math.max(grpc, await grpcRound(round));
    }
    console.log(`publish, batches of ${BATCH} on ${STREAMS} streams: gRPC ${grpc.toFixed(0)} events/s, HTTP ingest route ${http.toFixed(0)} events/s`);
    figures.push(`ratio: sidecar-publish-vs-http-ingest ${(grpc / http).toFixed(2)} (target 1.0)`);
  } finally {
    await app.stop();
    await schema.drop();
  }
}

/** Subscribe throughput: gRPC stream vs in-process subscription, same bus, same N. */
async function subscribePhase(figures: string[]): Promise<void> {
  const bus = "eventbus:?bus=bench-sidecar";
  const config = loadSidecarConfig({ WHISPER_GRPC_PORT: "1", WHISPER_BUS: bus, WHISPER_TOPICS: "bench.sub", WHISPER_ADMIN_TOKEN: TOKEN });
  const backend = await StandaloneBackend.open(config);
  const server = await startSidecarServer(backend, { host: "127.0.0.1", port: 0 });
  const topic = await openTopic(`eventbus:bench.sub?bus=bench-sidecar`);
  const client = createClient(PubSubService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.port}` }));
  const publishAll = async (tag: string) => {
    const results = [];
    for (let i = 0; i < N; i++) results.push(topic.publish(createMessage({ id: `${tag}-${i}`, type: "bench.event", source: "/bench", datacontenttype: "application/json", data: { i } })));
    await Promise.all(results);
  };
  const inProcess = async (round: number) => {
    const sub = await openSubscription(`eventbus:bench.sub?bus=bench-sidecar`, { name: `inproc-${round}`, concurrency: 1000, maxOutstanding: 1000 });
    let received = 0;
    const stop = new AbortController();
    const start = performance.now();
    const receiving = sub.receive((m) => {
      m.ack();
      if (++received === N) stop.abort();
    }, { signal: stop.signal });
    await publishAll(`p${round}`);
    await receiving;
    const r = rate(N, performance.now() - start);
    await sub.close();
    return r;
  };
  const overGrpc = async (round: number) => {
    const requests = new RequestQueue();
    requests.push(create(SubscribeRequestSchema, { kind: { case: "open", value: { topic: "bench.sub", subscription: `grpc-${round}`, maxInFlight: 1000 } } }));
    const responses = client.subscribe(requests, { headers: { authorization: `Bearer ${TOKEN}` } })[Symbol.asyncIterator]();
    await responses.next(); // subscribed
    let pending: string[] = [];
    let received = 0;
    const flush = () => {
      requests.push(create(SubscribeRequestSchema, { kind: { case: "ack", value: { deliveryIds: pending } } }));
      pending = [];
    };
    const start = performance.now();
    const publishing = publishAll(`g${round}`);
    while (received < N) {
      const { value, done } = await responses.next();
      if (done) throw new Error(`stream ended after ${received} deliveries`);
      if (value.kind.case !== "delivery") continue;
      received++;
      if (pending.length === 0) setImmediate(flush);
      pending.push(value.kind.value.deliveryId);
    }
    const r = rate(N, performance.now() - start);
    await publishing;
    if (pending.length > 0) flush();
    requests.end();
    for (let next = await responses.next(); !next.done; next = await responses.next());
    return r;
  };
  try {
    let inproc = 0;
    let grpc = 0;
    for (let round = 0; round < ROUNDS; round++) {
      inproc = Math.max(inproc, await inProcess(round));
      grpc = Math.max(grpc, await overGrpc(round));
    }
    console.log(`subscribe, ${N} events: gRPC stream ${grpc.toFixed(0)} events/s, in-process subscription ${inproc.toFixed(0)} events/s`);
    figures.push(`ratio: sidecar-subscribe-vs-in-process ${(grpc / inproc).toFixed(2)} (target 0.1)`);
  } finally {
    await topic.close();
    await server.close();
    await backend.close();
  }
}

/** The client's request stream: pushed from the loop that reads deliveries. */
class RequestQueue implements AsyncIterable<SubscribeRequest> {
  #items: SubscribeRequest[] = [];
  #ended = false;
  #wake: (() => void) | undefined;
  push(item: SubscribeRequest): void {
    this.#items.push(item);
    this.#wake?.();
  }
  end(): void {
    this.#ended = true;
    this.#wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<SubscribeRequest> {
    for (;;) {
      while (this.#items.length > 0) yield this.#items.shift()!;
      if (this.#ended) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
}

const figures: string[] = [];
const phases = (process.env.BENCH_PHASES ?? "subscribe,publish").split(",");
if (phases.includes("subscribe")) await subscribePhase(figures);
if (phases.includes("publish")) await publishPhase(figures);
for (const line of figures) console.log(line);
process.exit(0);
