import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSchema, ensureBuilt, startApp, type RunningApp, type TestSchema } from "../support/app";

/**
 * No secret leaves the server. The bus URL carries a NATS token (`nats://TOKEN@host`, which the old redaction
 * showed in full): health without credentials says only its status; with credentials, and in topic urls,
 * problem details and the audit log, the token is `***`.
 */

const NATS_TOKEN = "s3cr3t-nats-token-do-not-show";
const TOPIC = "secret-bus";

let schema: TestSchema;
let app: RunningApp;

beforeAll(async () => {
  await ensureBuilt();
  schema = await createSchema("api_secrets");
  // The shared NATS server has no authorization configured: it accepts the token and ignores it.
  app = await startApp({ databaseUrl: schema.databaseUrl, topics: TOPIC, env: { WHISPER_BUS: `nats://${NATS_TOKEN}@127.0.0.1:4222` } });
});

afterAll(async () => {
  await app?.stop();
  await schema?.drop();
});

describe("health", () => {
  it("without credentials says only its status, with the same HTTP status", async () => {
    const response = await fetch(`${app.url}/api/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("with bad credentials says no more than without", async () => {
    const response = await fetch(`${app.url}/api/health`, { headers: { authorization: "Bearer not-the-token-00000" } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("with the token gives the details, the bus URL redacted", async () => {
    const body = await (await app.api("/api/health")).json();
    expect(body).toMatchObject({ status: "ok", bus: "nats://***@127.0.0.1:4222", database: "ok", runtime: { startedBy: "instrumentation" } });
  });
});

describe("every answer", () => {
  it("shows the bus token nowhere: topics, problems, audit, health, metrics, openapi", async () => {
    const created = await app.api("/api/topics", { method: "POST", headers: { "content-type": "application/json" }, body: '{"name":"secret-made"}' });
    expect(created.status).toBe(201);
    expect((await created.json()).url).toBe("nats://***@127.0.0.1:4222/secret-made");
    // Failure injection needs the in-process bus: the 409 names this server's bus, redacted.
    const conflict = await app.api(`/api/topics/${TOPIC}/failure`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"failing":true}' });
    expect(conflict.status).toBe(409);
    const problem = await conflict.text();
    expect(problem).toContain("nats://***@127.0.0.1:4222");
    const bodies = [
      problem,
      await (await app.api("/api/topics")).text(),
      await (await app.api("/api/audit")).text(),
      await (await app.api("/api/health")).text(),
      await (await fetch(`${app.url}/api/health`)).text(),
      await (await app.api("/api/metrics")).text(),
      await (await app.api("/api/subscriptions")).text(),
    ];
    for (const body of bodies) expect(body).not.toContain(NATS_TOKEN);
    const topics = (await (await app.api("/api/topics")).json()).topics as Array<{ name: string; url: string }>;
    expect(topics.map((t) => t.url)).toEqual(expect.arrayContaining([`nats://***@127.0.0.1:4222/${TOPIC}`]));
  });

  it("nor does the start banner", () => {
    expect(app.output()).toContain("nats://***@127.0.0.1:4222");
    expect(app.output()).not.toContain(NATS_TOKEN);
  });
});
