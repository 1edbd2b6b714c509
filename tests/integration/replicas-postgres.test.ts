import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSchema, ensureBuilt, eventually, startApp, type RunningApp, type TestSchema } from "../support/app";
import { readLive } from "../support/sse";

/**
 * Two dashboards sharing one PostgreSQL on the in-process bus: their control plane is Postgres LISTEN/NOTIFY
 * (as for the embedded database). They agree on the topic set, the failure toggle, paused and resumed keys,
 * and each one's live tail shows what the other recorded.
 */

const TOKEN = "replicas-pg-token-0123456789";
const TOPIC = "pg.orders";
let schema: TestSchema;
let a: RunningApp;
let b: RunningApp;

async function post(app: RunningApp, pathname: string, body?: unknown): Promise<Response> {
  return app.api(pathname, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body ?? {}),
  });
}

async function publish(app: RunningApp, id: string, key?: string): Promise<{ status: string; error?: { code: string } }> {
  const response = await app.api(`/api/topics/${TOPIC}/events`, {
    method: "POST",
    headers: { "content-type": "application/cloudevents+json" },
    body: JSON.stringify({ specversion: "1.0", id, source: "/pg", type: "pg.test", ...(key ? { orderingkey: key } : {}) }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { results: Array<{ status: string; error?: { code: string } }> }).results[0]!;
}

async function topicState(app: RunningApp): Promise<{ failing: boolean; pausedKeys: number } | undefined> {
  const { topics } = (await (await app.api("/api/topics")).json()) as { topics: Array<{ name: string; failing: boolean; pausedKeys: number }> };
  return topics.find((t) => t.name === TOPIC);
}

beforeAll(async () => {
  await ensureBuilt();
  schema = await createSchema("replpg");
  [a, b] = await Promise.all([
    startApp({ databaseUrl: schema.databaseUrl, topics: `${TOPIC}:ordered`, token: TOKEN }),
    startApp({ databaseUrl: schema.databaseUrl, topics: `${TOPIC}:ordered`, token: TOKEN }),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await schema?.drop();
});

describe("two dashboards sharing PostgreSQL (LISTEN/NOTIFY control plane)", () => {
  it("say which control channel they use", async () => {
    const health = (await (await a.api("/api/health")).json()) as { replicas: { transport: string } };
    expect(health.replicas.transport).toBe("postgres");
  });

  it("agree on the topic set", async () => {
    expect((await post(a, "/api/topics", { name: "pg.new" })).status).toBe(201);
    await eventually(async () => ((await b.api("/api/subscriptions?topic=pg.new")).status === 200 ? true : undefined), "B manages pg.new", 10_000);
    expect((await a.api("/api/topics/pg.new", { method: "DELETE" })).status).toBe(204);
    await eventually(async () => ((await b.api("/api/subscriptions?topic=pg.new")).status === 404 ? true : undefined), "B released pg.new", 10_000);
  });

  it("share live traffic: B's tail shows what A recorded", async () => {
    const live = await readLive(`${b.url}/api/live?topic=${TOPIC}`, { authorization: `Bearer ${TOKEN}` });
    try {
      await eventually(async () => {
        const probe = `pg-probe-${Date.now()}`;
        await publish(a, probe);
        return (await eventually(async () => (live.ids.includes(probe) ? true : undefined), "probe", 2_000).catch(() => undefined)) ? true : undefined;
      }, "B's tail receiving A's traffic", 20_000);
      const ids = Array.from({ length: 50 }, (_, i) => `pg-live-${i}`);
      for (const id of ids) await publish(a, id);
      await eventually(async () => (ids.every((id) => live.ids.includes(id)) ? true : undefined), "all 50 on B's tail", 20_000);
    } finally {
      live.close();
    }
  });

  it("agree on the failure toggle and on paused and resumed keys", async () => {
    expect((await post(a, `/api/topics/${TOPIC}/failure`, { failing: true })).status).toBe(200);
    await eventually(async () => ((await topicState(b))?.failing ? true : undefined), "B failing too", 10_000);
    expect((await publish(a, "pg-k-1", "K")).status).toBe("failed");
    expect((await post(a, `/api/topics/${TOPIC}/failure`, { failing: false })).status).toBe(200);
    await eventually(async () => ((await topicState(b))?.failing === false ? true : undefined), "B not failing", 10_000);
    // The pause reached B's core: B refuses K although its own sends never failed.
    await eventually(async () => {
      const outcome = await publish(b, `pg-k-b-${Date.now()}`, "K");
      return outcome.error?.code === "ERR_ORDERING_KEY_PAUSED" ? true : undefined;
    }, "B refusing K", 10_000);

    const { stalled } = (await (await b.api("/api/ordering")).json()) as { stalled: Array<{ id: string; orderingKey: string }> };
    const entry = stalled.find((s) => s.orderingKey === "K")!;
    expect((await post(b, `/api/ordering/${entry.id}/resume`)).status).toBe(200);
    await eventually(async () => ((await publish(a, `pg-k-${Date.now()}`, "K")).status === "published" ? true : undefined), "A publishing K again", 10_000);
  });
});
