import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSchema, ensureBuilt, eventually, startApp, type RunningApp, type TestSchema } from "../support/app";
import { TestNatsServer } from "../support/nats-server";
import { readLive } from "../support/sse";

/**
 * Two dashboards (the production build, `next start`) on one JetStream and one PostgreSQL, as a team runs
 * them behind a load balancer: they agree on the topic set, paused and resumed keys and live traffic, record
 * every event once, resume a key so that nothing overtakes the stalled messages, and answer a publish during
 * a broker outage within the publish deadline. Every topic lives on one stream the driver manages (both
 * processes add subjects to it). The test owns its nats-server (stopped and restarted by PID).
 */

const TOKEN = "replicas-test-token-0123456789";
const DEADLINE_MS = 3_000;
const STREAM = "REPL";
const ORDERED = "repl.orders";
let nats: TestNatsServer;
let admin: NatsConnection;
let jsm: JetStreamManager;
let schema: TestSchema;
let a: RunningApp;
let b: RunningApp;

type Outcome = { id: string; status: string; error?: { code: string } };

function event(id: string, extra: Record<string, unknown> = {}) {
  return { specversion: "1.0", id, source: "/replicas", type: "replica.test", data: { id }, ...extra };
}

async function publish(app: RunningApp, topic: string, events: object[], signal?: AbortSignal): Promise<Outcome[]> {
  const response = await app.api(`/api/topics/${topic}/events`, {
    method: "POST",
    headers: { "content-type": "application/cloudevents-batch+json" },
    body: JSON.stringify(events),
    signal,
  });
  expect(response.status, await response.clone().text()).toBe(202);
  return ((await response.json()) as { results: Outcome[] }).results;
}

async function json<T>(app: RunningApp, pathname: string, init?: RequestInit): Promise<T> {
  const response = await app.api(pathname, init);
  expect(response.ok, `${pathname}: ${response.status} ${await response.clone().text()}`).toBe(true);
  return (await response.json()) as T;
}

/** Ids of the messages of `key` on subject `subject` in stream order, read straight from JetStream. */
async function streamOrder(subject: string, key: string): Promise<string[]> {
  const info = await jsm.streams.info(STREAM);
  const ids: string[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const stored = await jsm.streams.getMessage(STREAM, { seq }).catch(() => null);
    if (!stored || stored.subject !== subject) continue;
    if (stored.header?.get("ce-orderingkey") === key) ids.push(stored.header.get("ce-id"));
  }
  return ids;
}

/** Keys paused in the replica's own core (not just stored as stalled): its publishes to them are refused. */
async function pausedInCore(app: RunningApp): Promise<number> {
  const text = await (await app.api("/api/metrics")).text();
  return Number(/^whisper_paused_keys\{topic="repl\.orders"\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

async function stallKey(app: RunningApp, key: string, ids: string[]): Promise<{ tookMs: number; outcomes: Outcome[] }> {
  await nats.stop();
  const started = Date.now();
  // The answer must come within the publish deadline; the signal bounds the wait so a hang fails the test.
  const outcomes = await publish(app, ORDERED, ids.map((id) => event(id, { orderingkey: key })), AbortSignal.timeout(DEADLINE_MS + 15_000));
  const tookMs = Date.now() - started;
  await nats.restart();
  return { tookMs, outcomes };
}

beforeAll(async () => {
  await ensureBuilt();
  nats = await TestNatsServer.start();
  admin = await connect({ servers: nats.url, maxReconnectAttempts: -1 });
  jsm = await jetstreamManager(admin);
  // No stream is made here: both dashboards open their topics on `?stream=REPL`, so the driver creates the
  // stream and the two processes add each topic's subject to it (several topics on one managed stream).
  schema = await createSchema("repl");
  const env = { WHISPER_BUS: `jetstream://127.0.0.1:${nats.port}?stream=${STREAM}`, WHISPER_PUBLISH_DEADLINE_MS: String(DEADLINE_MS) };
  [a, b] = await Promise.all([
    startApp({ databaseUrl: schema.databaseUrl, topics: `${ORDERED}:ordered`, token: TOKEN, env }),
    startApp({ databaseUrl: schema.databaseUrl, topics: `${ORDERED}:ordered`, token: TOKEN, env }),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await admin?.close().catch(() => {});
  await nats?.stop();
  await schema?.drop();
});

describe("two dashboards on one JetStream and one PostgreSQL", () => {
  it("agree on the topic set: created or deleted on A, usable or gone on B", async () => {
    const created = Date.now();
    expect((await a.api("/api/topics", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "repl.new" }) })).status).toBe(201);
    await eventually(async () => ((await b.api("/api/subscriptions?topic=repl.new")).status === 200 ? true : undefined), "B manages repl.new", 10_000);
    const createMs = Date.now() - created;
    expect((await publish(b, "repl.new", [event("repl-new-1")]))[0]!.status).toBe("published");

    const deleted = Date.now();
    expect((await a.api("/api/topics/repl.new", { method: "DELETE" })).status).toBe(204);
    await eventually(async () => ((await b.api("/api/subscriptions?topic=repl.new")).status === 404 ? true : undefined), "B released repl.new", 10_000);
    console.log(`replicas: topic created on A managed by B after ${createMs} ms, deleted after ${Date.now() - deleted} ms`);
  });

  it("B's live tail shows every event published through A", async () => {
    const live = await readLive(`${b.url}/api/live?topic=${ORDERED}&limit=500`, { authorization: `Bearer ${TOKEN}` });
    try {
      await eventually(async () => {
        const probe = `repl-probe-${Date.now()}`;
        await publish(a, ORDERED, [event(probe)]);
        return (await eventually(async () => (live.ids.includes(probe) ? true : undefined), "probe on B", 3_000).catch(() => undefined)) ? true : undefined;
      }, "B's live tail to receive A's traffic", 30_000);
      const ids = Array.from({ length: 200 }, (_, i) => `repl-live-${i}`);
      for (let i = 0; i < ids.length; i += 50) await publish(a, ORDERED, ids.slice(i, i + 50).map((id) => event(id)));
      await eventually(async () => (ids.every((id) => live.ids.includes(id)) ? true : undefined), "all 200 events on B's live tail", 30_000);
      expect(new Set(live.ids.filter((id) => id.startsWith("repl-live-"))).size).toBe(200);
    } finally {
      live.close();
    }
  });

  it("records the same 1,000 events once, the replicas splitting the ingest", async () => {
    const topic = "repl.count";
    expect((await a.api("/api/topics", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: topic }) })).status).toBe(201);
    await eventually(async () => ((await b.api(`/api/subscriptions?topic=${topic}`)).status === 200 ? true : undefined), "B manages the topic", 10_000);
    const ids = Array.from({ length: 1000 }, (_, i) => `repl-count-${i}`);
    for (let i = 0; i < ids.length; i += 100) {
      const outcomes = await publish(i % 200 === 0 ? a : b, topic, ids.slice(i, i + 100).map((id) => event(id)));
      expect(outcomes.every((o) => o.status === "published")).toBe(true);
    }
    // The same events again through the other replica: the broker and the history drop them by id.
    await publish(a, topic, ids.slice(0, 100).map((id) => event(id)));
    const count = async () => (await json<{ topics: Array<{ name: string; messageCount: number }> }>(a, "/api/topics")).topics.find((t) => t.name === topic)?.messageCount;
    await eventually(async () => ((await count()) === 1000 ? true : undefined), "1,000 rows", 60_000);
    const recordedBy = async (app: RunningApp) => {
      const text = await (await app.api("/api/metrics")).text();
      return Number(/^whisper_messages_recorded_total\{topic="repl\.count"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    const [byA, byB] = [await recordedBy(a), await recordedBy(b)];
    expect(byA + byB).toBe(1000);
    expect(await count()).toBe(1000);
    console.log(`replicas: 1,000 events recorded once: ${byA} by A, ${byB} by B`);
    const subjects = (await jsm.streams.info(STREAM)).config.subjects;
    expect(subjects).toEqual(expect.arrayContaining([ORDERED, "repl.new", topic]));
  });

  it("a key stalled on A during an outage is resumed from B, and A publishes to it again, in order", async () => {
    const { tookMs, outcomes } = await stallKey(a, "K", ["k-1", "k-2"]);
    console.log(`replicas: a publish during the outage answered in ${tookMs} ms (deadline ${DEADLINE_MS} ms)`);
    expect(outcomes.map((o) => o.status)).toEqual(["failed", "failed"]);
    const entry = await eventually(async () => {
      const { stalled } = await json<{ stalled: Array<{ id: string; orderingKey: string; messages: Array<{ id: string }> }> }>(b, "/api/ordering");
      return stalled.find((s) => s.orderingKey === "K");
    }, "the stall on B's ordering board");
    expect(entry.messages.map((m) => m.id)).toEqual(["k-1", "k-2"]);
    // B knows the key is paused too (it catches up from the database when its control channel reconnects):
    // its publishes to K are refused and stored behind the stall.
    await eventually(async () => ((await pausedInCore(b)) >= 1 ? true : undefined), "K paused in B's core", 30_000);
    const [onB] = await publish(b, ORDERED, [event("k-b", { orderingkey: "K" })]);
    expect(onB!.error?.code).toBe("ERR_ORDERING_KEY_PAUSED");

    const resumed = await json<{ results: Array<{ id: string; status: string }> }>(b, `/api/ordering/${entry.id}/resume`, { method: "POST" });
    expect(resumed.results.every((r) => r.status === "published")).toBe(true);
    // A unpauses K when it hears B's key.resumed, or, if its control channel was still reconnecting after the
    // outage and missed it, at its next catch-up (every 15 s), which finds K's entry resolved. A publish before
    // that would be stored behind a new stall, so the test publishes once A's core has K unpaused.
    await eventually(async () => ((await pausedInCore(a)) === 0 ? true : undefined), "K unpaused on A", 30_000);
    const [again] = await publish(a, ORDERED, [event("k-3", { orderingkey: "K" })]);
    expect(again!.status).toBe("published");
    const order = await streamOrder(ORDERED, "K");
    expect(order).toEqual(["k-1", "k-2", "k-b", "k-3"]);
    expect(new Set(order).size).toBe(order.length);
  });

  it("a key whose entry was resolved while its key.resumed was lost is unpaused on every replica by the catch-up", async () => {
    await stallKey(a, "L", ["l-1"]);
    for (const app of [a, b]) await eventually(async () => ((await pausedInCore(app)) === 1 ? true : undefined), "L paused in each core", 30_000);
    // What a Resume on a replica whose control event never arrived leaves: the entry resolved, nobody told.
    const db = new pg.Client({ connectionString: schema.databaseUrl.replace(/\?schema=.*$/, "") });
    await db.connect();
    try {
      const resolved = await db.query(`UPDATE "${schema.name}".stalls SET status = 'resumed' WHERE topic = $1 AND ordering_key = 'L' AND status = 'stalled'`, [ORDERED]);
      expect(resolved.rowCount).toBe(1);
    } finally {
      await db.end();
    }
    const started = Date.now();
    for (const app of [a, b]) await eventually(async () => ((await pausedInCore(app)) === 0 ? true : undefined), "L unpaused by the catch-up", 40_000);
    console.log(`replicas: a resolved entry with its key.resumed lost was unpaused on both replicas after ${Date.now() - started} ms`);
    const [after] = await publish(a, ORDERED, [event("l-2", { orderingkey: "L" })]);
    expect(after!.status).toBe("published");
  });

  it("Resume with 20 concurrent publishers on the key keeps the stalled messages first", async () => {
    const stalledIds = ["r-1", "r-2", "r-3"];
    await stallKey(a, "R", stalledIds);
    for (const app of [a, b]) await eventually(async () => ((await pausedInCore(app)) >= 1 ? true : undefined), "R paused in each core", 30_000);
    const { stalled } = await json<{ stalled: Array<{ id: string; orderingKey: string }> }>(a, "/api/ordering");
    const entry = stalled.find((s) => s.orderingKey === "R")!;

    const racers = Array.from({ length: 20 }, (_, i) => publish(i % 2 ? a : b, ORDERED, [event(`r-race-${i}`, { orderingkey: "R" })]));
    const resume = a.api(`/api/ordering/${entry.id}/resume`, { method: "POST" });
    const [answers, resumeAnswer] = await Promise.all([Promise.all(racers), resume]);
    expect(resumeAnswer.status).toBe(200);
    const published = answers.flat().filter((o) => o.status === "published").map((o) => o.id);
    const order = await eventually(async () => {
      const ids = await streamOrder(ORDERED, "R");
      return published.every((id) => ids.includes(id)) ? ids : undefined;
    }, "the racing publishes in the stream");
    expect(order.slice(0, 3)).toEqual(stalledIds);
    console.log(`replicas: resume raced by 20 publishers: ${published.length} went straight through, all after the 3 stalled`);
  });
});
