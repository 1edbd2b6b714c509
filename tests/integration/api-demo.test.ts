import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSchema, ensureBuilt, eventually, startApp, type RunningApp, type TestSchema } from "../support/app";

/** The demo traffic source: started by WHISPER_DEMO=1, stopped and started again through POST /api/demo. */
describe("demo traffic", () => {
  let schema: TestSchema;
  let app: RunningApp;

  beforeAll(async () => {
    await ensureBuilt();
    schema = await createSchema("demo");
    app = await startApp({ databaseUrl: schema.databaseUrl, env: { WHISPER_DEMO: "1" } });
  });

  afterAll(async () => {
    await app?.stop();
    await schema?.drop();
  });

  it("publishes on the demo topics from the start and records the traffic", async () => {
    const status = await (await app.api("/api/demo")).json();
    expect(status).toMatchObject({ running: true, topics: ["demo.orders", "demo.payments", "demo.clicks", "demo.inventory"] });
    const topics = await eventually(async () => {
      const list = (await (await app.api("/api/topics")).json()).topics as Array<{ name: string; ordering: boolean; messageCount: number }>;
      const orders = list.find((t) => t.name === "demo.orders");
      return orders && orders.messageCount > 0 ? list : undefined;
    }, "recorded demo orders");
    expect(topics.find((t) => t.name === "demo.orders")?.ordering).toBe(true);
    expect(topics.find((t) => t.name === "demo.clicks")?.ordering).toBe(false);
    const page = await (await app.api("/api/messages?topic=demo.orders&limit=5")).json();
    expect(page.items[0]).toMatchObject({ topic: "demo.orders", type: expect.stringMatching(/^com\.shop\.order\./) });
  });

  it("stalls demo.inventory on purpose within a cycle, and the stall resumes", async () => {
    const stall = await eventually(
      async () => {
        const { stalled } = await (await app.api("/api/ordering?topic=demo.inventory")).json();
        return stalled.length > 0 ? stalled[0] : undefined;
      },
      "a stalled demo.inventory key",
      60_000,
    );
    expect(stall.orderingKey).toMatch(/^sku-/);
    // Resume once the failure window is over (it lasts five seconds of every thirty).
    const resumed = await eventually(async () => {
      const response = await app.api(`/api/ordering/${stall.id}/resume`, { method: "POST" });
      const body = await response.json();
      return response.ok && body.results.every((r: { status: string }) => r.status === "published") ? body : undefined;
    }, "a successful resume", 30_000);
    expect(resumed.results.length).toBeGreaterThan(0);
  }, 120_000);

  it("stops and starts through the API", async () => {
    const stopped = await (
      await app.api("/api/demo", { method: "POST", headers: { "content-type": "application/json" }, body: '{"running":false}' })
    ).json();
    expect(stopped.running).toBe(false);
    const started = await (
      await app.api("/api/demo", { method: "POST", headers: { "content-type": "application/json" }, body: '{"running":true}' })
    ).json();
    expect(started.running).toBe(true);
  });
});
