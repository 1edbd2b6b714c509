import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSchema, ensureBuilt, eventually, startApp, type RunningApp, type TestSchema } from "../support/app";
import { deleteStreams } from "../support/jetstream";

/**
 * Issue 9, item 1, as the dashboard met it: on `WHISPER_BUS=jetstream://…?stream=S` every topic after the first
 * failed (503 "consumer filter subject is not a valid subset of the interest subjects"). The README's
 * `WHISPER_TOPICS=orders:ordered,payments`, a topic created through the API, and a replay to another topic.
 */
const NATS = "127.0.0.1:4222";
const id = Date.now().toString(36);
const stream = `DASH_${id.toUpperCase()}`;
const [orders, payments, refunds] = ["orders", "payments", "refunds"].map((t) => `jsd-${id}-${t}`) as [string, string, string];
let schema: TestSchema;
let app: RunningApp;

beforeAll(async () => {
  await ensureBuilt();
  schema = await createSchema("api_jsd");
  const env = { WHISPER_BUS: `jetstream://${NATS}?stream=${stream}` };
  app = await startApp({ databaseUrl: schema.databaseUrl, topics: `${orders}:ordered,${payments}`, env });
});

afterAll(async () => {
  await app?.stop();
  await schema?.drop();
  await deleteStreams(NATS, [stream]);
});

const post = (body: unknown, type = "application/json") => ({
  method: "POST",
  headers: { "content-type": type },
  body: JSON.stringify(body),
});

async function publish(topic: string, eventId: string): Promise<void> {
  const response = await app.api(
    `/api/topics/${topic}/events`,
    post({ specversion: "1.0", id: eventId, source: "/tests", type: "t" }, "application/cloudevents+json"),
  );
  expect(response.status, await response.clone().text()).toBeLessThan(300);
}

async function recorded(topic: string, eventId: string) {
  return eventually(async () => {
    const items: { id: string }[] = (await (await app.api(`/api/messages?topic=${topic}`)).json()).items;
    return items.find((m) => m.id === eventId);
  }, `${eventId} to be recorded on ${topic}`);
}

describe("the dashboard on one JetStream stream", () => {
  it("serves every configured topic, one created through the API, and a replay to another topic", async () => {
    const created = await app.api("/api/topics", post({ name: refunds }));
    expect(created.status, await created.clone().text()).toBe(201);

    for (const topic of [orders, payments, refunds]) await publish(topic, `${topic}-1`);
    for (const topic of [orders, payments, refunds]) await recorded(topic, `${topic}-1`);

    const replayed = await app.api(`/api/messages/${orders}-1/replay`, post({ topic: payments }));
    expect(replayed.status, await replayed.clone().text()).toBe(201);
    await recorded(payments, (await replayed.json()).id);

    // Deleting a topic in the dashboard leaves the stream's subjects and history alone.
    expect((await app.api(`/api/topics/${refunds}`, { method: "DELETE" })).status).toBe(204);
    const nc = await connect({ servers: NATS });
    try {
      const info = await (await jetstreamManager(nc)).streams.info(stream);
      expect(new Set(info.config.subjects)).toEqual(new Set([orders, payments, refunds]));
      expect(info.state.messages).toBe(4);
    } finally {
      await nc.close();
    }
  });

  it("runs 50 topics created through the API on the one stream: each publishes, records and replays to the next", { timeout: 120_000 }, async () => {
    const topics = Array.from({ length: 50 }, (_, i) => `jsd-${id}-many-${i}`);
    for (const topic of topics) {
      const created = await app.api("/api/topics", post({ name: topic }));
      expect(created.status, await created.clone().text()).toBe(201);
    }
    for (const topic of topics) await publish(topic, `${topic}-1`);
    for (const topic of topics) await recorded(topic, `${topic}-1`);
    for (const [i, topic] of topics.entries()) {
      const next = topics[(i + 1) % topics.length]!;
      const replayed = await app.api(`/api/messages/${topic}-1/replay`, post({ topic: next }));
      expect(replayed.status, await replayed.clone().text()).toBe(201);
      await recorded(next, (await replayed.json()).id);
    }
  });

  it("runs the demo traffic on the stream (the README's JetStream example with the demo button)", async () => {
    const started = await app.api("/api/demo", post({ running: true }));
    expect(started.status, await started.clone().text()).toBe(200);
    try {
      for (const topic of ["demo.orders", "demo.payments", "demo.clicks", "demo.inventory"]) {
        await eventually(async () => {
          const items: unknown[] = (await (await app.api(`/api/messages?topic=${topic}`)).json()).items;
          return items.length > 0 ? true : undefined;
        }, `demo traffic recorded on ${topic}`);
      }
    } finally {
      expect((await app.api("/api/demo", post({ running: false }))).status).toBe(200);
    }
  });
});
