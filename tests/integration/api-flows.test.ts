import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createSchema,
  ensureBuilt,
  eventually,
  readFrames,
  startApp,
  type RunningApp,
  type TestSchema,
} from "../support/app";

/**
 * The admin API end to end over real HTTP, against the production build (`next build` + `next start`),
 * the in-process bus and a fresh Postgres schema.
 */

let schema: TestSchema;
let app: RunningApp;

beforeAll(async () => {
  await ensureBuilt();
  schema = await createSchema("api_flows");
  app = await startApp({ databaseUrl: schema.databaseUrl, topics: "plain,orders:ordered,live-demo" });
});

afterAll(async () => {
  await app?.stop();
  await schema?.drop();
});

const structured = (event: Record<string, unknown>): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/cloudevents+json" },
  body: JSON.stringify({ specversion: "1.0", source: "/tests/api", type: "test.event", ...event }),
});
const batch = (events: Array<Record<string, unknown>>): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/cloudevents-batch+json" },
  body: JSON.stringify(events.map((e) => ({ specversion: "1.0", source: "/tests/api", type: "test.event", ...e }))),
});

async function messages(query: string): Promise<Array<Record<string, unknown>>> {
  const response = await app.api(`/api/messages?${query}`);
  expect(response.status).toBe(200);
  return (await response.json()).items;
}

async function recorded(id: string): Promise<Record<string, unknown>> {
  return eventually(async () => {
    const response = await app.api(`/api/messages/${encodeURIComponent(id)}`);
    return response.status === 200 ? ((await response.json()) as Record<string, unknown>) : undefined;
  }, `message ${id} to be recorded`);
}

describe("the runtime", () => {
  it("was started at boot by instrumentation, and routes use that same instance", async () => {
    const health = await (await app.api("/api/health")).json();
    expect(health).toMatchObject({ status: "ok", bus: "eventbus:", database: "ok" });
    expect(health.runtime.startedBy).toBe("instrumentation");
    const metrics = await (await app.api("/api/metrics")).text();
    expect(metrics).toContain(`whisper_runtime_info{boot_id="${health.runtime.bootId}",started_by="instrumentation"} 1`);
    // The topics of WHISPER_TOPICS were opened by the boot instance.
    const topics = (await (await app.api("/api/topics")).json()).topics;
    expect(topics.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(["plain", "orders", "live-demo"]));
    expect(topics.find((t: { name: string }) => t.name === "orders").ordering).toBe(true);
  });
});

describe("publish and browse", () => {
  it("accepts binary, structured and batch CloudEvents and records them", async () => {
    const binary = await app.api("/api/topics/plain/events", {
      method: "POST",
      headers: {
        "ce-specversion": "1.0",
        "ce-id": "bin-1",
        "ce-source": "/tests/api",
        "ce-type": "test.binary",
        "ce-subject": "s%20one",
        "ce-tenant": "acme",
        "content-type": "application/json",
      },
      body: JSON.stringify({ n: 1 }),
    });
    expect(binary.status).toBe(202);
    expect(await binary.json()).toEqual({ results: [{ id: "bin-1", status: "published" }] });

    const one = await app.api("/api/topics/plain/events", structured({ id: "str-1", data: { n: 2 } }));
    expect((await one.json()).results).toEqual([{ id: "str-1", status: "published" }]);

    const many = await app.api("/api/topics/plain/events", batch([{ id: "bat-1" }, { id: "bat-2", data_base64: "AAEC" }]));
    expect(many.status).toBe(202);
    expect((await many.json()).results.map((r: { status: string }) => r.status)).toEqual(["published", "published"]);

    const detail = await recorded("bin-1");
    expect(detail).toMatchObject({
      id: "bin-1",
      topic: "plain",
      type: "test.binary",
      subject: "s one",
      extensions: { tenant: "acme" },
      data: { encoding: "json" },
    });
    expect(JSON.parse((detail.data as { value: string }).value)).toEqual({ n: 1 });
    expect((await recorded("bat-2")).data).toEqual({ encoding: "base64", value: "AAEC" });
    await recorded("str-1");
    await recorded("bat-1");
    const page = await messages("topic=plain&limit=10&type=&q=");
    expect(page.map((m) => m.id)).toEqual(expect.arrayContaining(["bin-1", "str-1", "bat-1", "bat-2"]));
  });

  it("replays a stored message with a new id and replayof", async () => {
    await recorded("str-1");
    const response = await app.api("/api/messages/str-1/replay", { method: "POST" });
    expect(response.status).toBe(201);
    const replay = await response.json();
    expect(replay).toMatchObject({ topic: "plain", replayOf: "str-1" });
    expect(replay.id).not.toBe("str-1");
    const copy = await recorded(replay.id);
    expect(copy).toMatchObject({ replayOf: "str-1", extensions: { replayof: "str-1" } });
  });

  it("creates and deletes a topic", async () => {
    const created = await app.api("/api/topics", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "made.by.api", ordering: true }),
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ name: "made.by.api", ordering: true, url: "eventbus:made.by.api" });
    const published = await app.api("/api/topics/made.by.api/events", structured({ id: "mba-1" }));
    expect((await published.json()).results[0].status).toBe("published");
    await recorded("mba-1");
    const subs = (await (await app.api("/api/subscriptions?topic=made.by.api")).json()).subscriptions;
    // The in-process bus knows its figures: the recorded message is no longer waiting.
    expect(subs).toEqual([
      { topic: "made.by.api", name: "whisper-recorder-made_by_api-333858", pending: 0, ackPending: 0, redelivered: 0 },
    ]);
    expect((await app.api("/api/topics/made.by.api", { method: "DELETE" })).status).toBe(204);
    expect((await app.api("/api/topics/made.by.api/events", structured({ id: "mba-2" }))).status).toBe(404);
  });
});

describe("stalled ordering keys", () => {
  it("stores the messages of a paused key in order, and Resume resends them in order", async () => {
    const fail = await app.api("/api/topics/orders/failure", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ failing: true }),
    });
    expect(await fail.json()).toEqual({ failing: true });

    const first = await app.api(
      "/api/topics/orders/events",
      batch(["o-1", "o-2", "o-3"].map((id) => ({ id, orderingkey: "customer-7", data: { id } }))),
    );
    const outcomes = (await first.json()).results;
    expect(outcomes.map((r: { status: string }) => r.status)).toEqual(["failed", "failed", "failed"]);
    expect(outcomes[0].error.code).toBe("ERR_ORDERING_KEY_PAUSED");
    // Published while the key is paused: fails at once and joins the same stall.
    const later = await app.api("/api/topics/orders/events", structured({ id: "o-4", orderingkey: "customer-7" }));
    expect((await later.json()).results[0]).toMatchObject({ id: "o-4", status: "failed" });

    const topics = (await (await app.api("/api/topics")).json()).topics;
    expect(topics.find((t: { name: string }) => t.name === "orders")).toMatchObject({ failing: true, pausedKeys: 1 });

    const board = (await (await app.api("/api/ordering?topic=orders")).json()).stalled;
    expect(board).toHaveLength(1);
    const stall = board[0];
    expect(stall).toMatchObject({ topic: "orders", orderingKey: "customer-7", status: "stalled" });
    expect(stall.error).toMatch(/failing on purpose/);
    expect(stall.messages.map((m: { id: string }) => m.id)).toEqual(["o-1", "o-2", "o-3", "o-4"]);

    await app.api("/api/topics/orders/failure", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ failing: false }),
    });

    // Watch the delivery order on the live stream while resuming.
    let results: Array<{ id: string; status: string }> = [];
    const frames = await readFrames(
      app,
      "?topic=orders",
      async () => {
        const resumed = await app.api(`/api/ordering/${stall.id}/resume`, { method: "POST" });
        expect(resumed.status).toBe(200);
        results = (await resumed.json()).results;
      },
      (f) => f.flatMap((x) => x.messages).length >= 4,
    );
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ["o-1", "published"],
      ["o-2", "published"],
      ["o-3", "published"],
      ["o-4", "published"],
    ]);
    expect(frames.flatMap((f) => f.messages.map((m) => m.id))).toEqual(["o-1", "o-2", "o-3", "o-4"]);
    const after = (await (await app.api("/api/ordering?topic=orders")).json()).stalled;
    expect(after.find((s: { id: string }) => s.id === stall.id)?.status ?? "resumed").toBe("resumed");

    // The key works again.
    const again = await app.api("/api/topics/orders/events", structured({ id: "o-5", orderingkey: "customer-7" }));
    expect((await again.json()).results[0].status).toBe("published");
  });
});

describe("stalled ordering keys: discard", () => {
  it("drops the stalled messages and lets the key flow again", async () => {
    const toggle = (failing: boolean) =>
      app.api("/api/topics/orders/failure", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ failing }),
      });
    await toggle(true);
    const failed = await app.api("/api/topics/orders/events", batch([{ id: "d-1", orderingkey: "customer-9" }]));
    expect((await failed.json()).results[0].status).toBe("failed");
    await toggle(false);
    const stall = (await (await app.api("/api/ordering?topic=orders")).json()).stalled.find(
      (s: { orderingKey: string }) => s.orderingKey === "customer-9",
    );
    expect(stall.messages.map((m: { id: string }) => m.id)).toEqual(["d-1"]);
    const discarded = await app.api(`/api/ordering/${stall.id}/discard`, { method: "POST" });
    expect(await discarded.json()).toEqual({ discarded: 1 });
    expect((await app.api(`/api/ordering/${stall.id}/discard`, { method: "POST" })).status).toBe(409);
    const next = await app.api("/api/topics/orders/events", structured({ id: "d-2", orderingkey: "customer-9" }));
    expect((await next.json()).results[0].status).toBe("published");
    const topics = (await (await app.api("/api/topics")).json()).topics;
    expect(topics.find((t: { name: string }) => t.name === "orders")).toMatchObject({ failing: false, pausedKeys: 0 });
  });
});

describe("topics created by another replica", () => {
  it("are adopted on first use", async () => {
    const client = new pg.Client({ connectionString: schema.databaseUrl.replace(/\?schema=.*$/, "") });
    await client.connect();
    try {
      await client.query(
        `insert into "${schema.name}".topics (name, url, ordering, created_at, updated_at) values ($1, $2, false, now(), now())`,
        ["from.elsewhere", "eventbus:from.elsewhere"],
      );
    } finally {
      await client.end();
    }
    const published = await app.api("/api/topics/from.elsewhere/events", structured({ id: "fe-1" }));
    expect(published.status).toBe(202);
    expect((await published.json()).results[0].status).toBe("published");
    await recorded("fe-1");
  });
});

describe("live traffic", () => {
  it("coalesces into frames, caps each frame per client and reports the dropped count", async () => {
    const total = 40;
    const frames = await readFrames(
      app,
      "?topic=live-demo&limit=5",
      async () => {
        const response = await app.api(
          "/api/topics/live-demo/events",
          batch(Array.from({ length: total }, (_, i) => ({ id: `live-${i}`, data: { i } }))),
        );
        expect(response.status).toBe(202);
      },
      (f) => f.reduce((n, x) => n + x.messages.length + x.dropped, 0) >= total,
    );
    for (const frame of frames) expect(frame.messages.length).toBeLessThanOrEqual(5);
    expect(frames.reduce((n, f) => n + f.messages.length + f.dropped, 0)).toBe(total);
    expect(frames.some((f) => f.dropped > 0)).toBe(true);
    for (const m of frames.flatMap((f) => f.messages)) expect(m.topic).toBe("live-demo");
    const metrics = await (await app.api("/api/metrics")).text();
    expect(metrics).toMatch(/^whisper_live_dropped_total [1-9]\d*$/m);
    // The stream was cancelled: the server forgets the client.
    await eventually(async () => {
      const text = await (await app.api("/api/metrics")).text();
      return /^whisper_live_clients 0$/m.test(text) ? true : undefined;
    }, "the live client to be removed");
  });

  it("filters by type", async () => {
    const frames = await readFrames(
      app,
      "?topic=live-demo&type=wanted",
      async () => {
        await app.api("/api/topics/live-demo/events", batch([{ id: "t-1", type: "unwanted" }, { id: "t-2", type: "wanted" }]));
      },
      (f) => f.some((x) => x.messages.length > 0),
    );
    expect(frames.flatMap((f) => f.messages.map((m) => m.id))).toEqual(["t-2"]);
  });
});

describe("metrics", () => {
  it("exposes publish outcomes, recorded messages, live clients and paused keys", async () => {
    const response = await app.api("/api/metrics");
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    expect(text).toMatch(/^whisper_publish_total\{topic="plain",outcome="published"\} [1-9]/m);
    expect(text).toMatch(/^whisper_publish_total\{topic="orders",outcome="failed"\} [1-9]/m);
    expect(text).toMatch(/^whisper_messages_recorded_total\{topic="plain"\} [1-9]/m);
    expect(text).toMatch(/^whisper_paused_keys\{topic="orders"\} 0$/m);
    expect(text).toMatch(/^whisper_live_clients \d+$/m);
    expect(text).toMatch(/^whisper_recorder_held\{topic="plain"\} \d+$/m);
  });
});

describe("shutdown", () => {
  it("stops cleanly on SIGTERM (exit 128 + 15, nothing logged as an error)", async () => {
    const result = await app.stop();
    expect(result).toEqual({ code: 143, signal: null });
    expect(app.output()).not.toMatch(/unhandled|did not finish|Error:/i);
  });
});
