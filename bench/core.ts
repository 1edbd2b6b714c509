/**
 * Core throughput: publish → receive of N small messages over the in-process bus, unordered and with
 * ordering keys, against a baseline measured in the same run: the same number of event objects (same fields,
 * nuid ids) passed through a plain Node EventEmitter. Each figure is the best of a few rounds.
 * Prints `ratio: <name> <value> (target <t>)` lines. A benchmark, not a test: it asserts nothing.
 *
 *   npm run bench:core              (N = 200000)
 *   BENCH_N=50000 npm run bench:core
 */
import { EventEmitter } from "node:events";
import { nuid } from "@nats-io/nuid";
import { createMessage, newId, openSubscription, openTopic, subAck } from "@whisper/core";

const N = Number(process.env.BENCH_N ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** Baseline: build each event object and emit it; the listener counts. */
function eventEmitterRun(): number {
  const emitter = new EventEmitter();
  let received = 0;
  emitter.on("event", (event: { id: string }) => {
    if (event.id) received++;
  });
  const start = performance.now();
  for (let i = 0; i < N; i++) {
    emitter.emit("event", {
      specversion: "1.0",
      id: nuid.next(),
      source: "/bench",
      type: "bench.event",
      time: new Date().toISOString(),
      data: { i },
      body: JSON.stringify({ i }),
    });
  }
  const ms = performance.now() - start;
  if (received !== N) throw new Error(`baseline received ${received} of ${N}`);
  return (N / ms) * 1000;
}

/** whisper: createMessage + publish through a topic, received and acked by a subscription (subAck). */
async function whisperRun(keys: number): Promise<number> {
  const url = `eventbus:bench-${newId()}?bus=bench`;
  const sub = await openSubscription(url, { concurrency: 64, maxOutstanding: 10_000, maxBatch: 1_000, use: [subAck()] });
  const topic = await openTopic(url, {
    ordering: keys > 0,
    flowControl: { maxOutstandingMessages: 50_000, maxOutstandingBytes: 256 * 1024 * 1024 },
  });
  let received = 0;
  const stop = new AbortController();
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const receiving = sub.receive(
    () => {
      if (++received === N) resolveDone();
    },
    { signal: stop.signal },
  );
  const start = performance.now();
  const chunk = 5_000;
  for (let i = 0; i < N; i += chunk) {
    const results = [];
    for (let j = i; j < Math.min(N, i + chunk); j++) {
      results.push(
        topic.publish(
          createMessage({ source: "/bench", type: "bench.event", data: { i: j }, orderingKey: keys > 0 ? `k${j % keys}` : undefined }),
        ),
      );
    }
    await results[results.length - 1];
  }
  await done;
  const ms = performance.now() - start;
  stop.abort();
  await receiving;
  await Promise.all([topic.close(), sub.close()]);
  return (N / ms) * 1000;
}

async function best(run: () => number | Promise<number>): Promise<number> {
  let top = 0;
  for (let r = 0; r < ROUNDS; r++) top = Math.max(top, await run());
  return top;
}

const fmt = (perSecond: number) => `${(perSecond / 1000).toFixed(0)}k msg/s`;

console.log(`core bench: ${N} messages, best of ${ROUNDS} rounds, node ${process.version}`);
await whisperRun(0); // warm-up
const baseline = await best(eventEmitterRun);
const unordered = await best(() => whisperRun(0));
const ordered: Record<number, number> = {};
for (const keys of [1, 100, 10_000]) ordered[keys] = await best(() => whisperRun(keys));

console.log(`EventEmitter baseline        ${fmt(baseline)}`);
console.log(`whisper eventbus unordered   ${fmt(unordered)}`);
for (const [keys, rate] of Object.entries(ordered)) {
  console.log(`whisper eventbus ${keys.padStart(5)} keys   ${fmt(rate)}  (cost ×${(unordered / rate).toFixed(2)} vs unordered)`);
}
console.log(`ratio: eventbus-unordered-vs-eventemitter ${(unordered / baseline).toFixed(3)} (target 0.25)`);
for (const [keys, rate] of Object.entries(ordered)) {
  console.log(`ratio: ordering-${keys}-keys-cost-vs-unordered ${(unordered / rate).toFixed(2)} (target ${keys === "100" ? "2.0 max" : "none"})`);
}
