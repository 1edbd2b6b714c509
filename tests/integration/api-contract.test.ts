import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { OPERATIONS, operation } from "@/server/contract";
import { apiRoutes, createSchema, ensureBuilt, eventually, startApp, type RunningApp, type TestSchema } from "../support/app";

/**
 * The contract (server/contract) is the one source of truth: every route file's methods are operations of it,
 * /api/openapi.json is exactly its operations, and what the live server answers parses with the shapes it
 * declares (success and problem answers alike).
 */

const TOPIC = "contract";
const ORDERED = "contract-ordered";

let schema: TestSchema;
let app: RunningApp;

beforeAll(async () => {
  await ensureBuilt();
  schema = await createSchema("api_contract");
  app = await startApp({ databaseUrl: schema.databaseUrl, topics: `${TOPIC},${ORDERED}:ordered` });
});

afterAll(async () => {
  await app?.stop();
  await schema?.drop();
});

/** Parses `response` with the shape the contract declares for `method path` and its status. */
async function conforms(method: string, path: string, response: Response): Promise<unknown> {
  const op = operation(method, path);
  expect(op, `${method} ${path} in the contract`).toBeDefined();
  const answer = op!.answers[response.status] ?? (response.status >= 400 ? { description: "problem", body: undefined } : undefined);
  expect(answer, `${method} ${path} answered ${response.status}, which the contract does not list`).toBeDefined();
  const text = await response.text();
  if (response.status >= 400) {
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    return z.object({ type: z.string(), title: z.string(), status: z.literal(response.status), detail: z.string() }).parse(JSON.parse(text));
  }
  if (answer!.body instanceof z.ZodType) {
    expect(response.headers.get("content-type")).toBe("application/json");
    const parsed = answer!.body.safeParse(JSON.parse(text));
    expect(parsed.success ? [] : parsed.error.issues, `${method} ${path}: ${text.slice(0, 300)}`).toEqual([]);
    return parsed.data;
  }
  return text;
}

const event = (id: string, extra: Record<string, unknown> = {}) => ({
  method: "POST",
  headers: { "content-type": "application/cloudevents+json" },
  body: JSON.stringify({ specversion: "1.0", id, source: "/contract", type: "contract.event", data: { id }, ...extra }),
});

describe("the contract and the route files", () => {
  it("declare the same operations", async () => {
    const onDisk = (await apiRoutes())
      .filter((r) => r.path !== "/api/{path}")
      .flatMap((r) => r.methods.map((m) => `${m.toLowerCase()} ${r.path}`))
      .sort();
    expect(OPERATIONS.map((o) => `${o.method} ${o.path}`).sort()).toEqual(onDisk);
  });

  it("/api/openapi.json is rendered from it", async () => {
    const doc = await (await app.api("/api/openapi.json")).json();
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method} ${path}`),
    );
    expect(documented.sort()).toEqual(OPERATIONS.map((o) => `${o.method} ${o.path}`).sort());
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(["TopicSummary", "MessageDetail", "AuditEntry", "Problem"]));
  });
});

describe("live answers parse with the contract's shapes", () => {
  it("for every operation, from arranged data", async () => {
    await conforms("post", "/api/topics", await app.api("/api/topics", { method: "POST", headers: { "content-type": "application/json" }, body: '{"name":"contract-made"}' }));
    await conforms("post", "/api/topics/{topic}/events", await app.api(`/api/topics/${TOPIC}/events`, event("c-1")));
    const recorded = await eventually(async () => {
      const r = await app.api("/api/messages/c-1");
      return r.status === 200 ? r : undefined;
    }, "c-1 recorded");
    await conforms("get", "/api/messages/{id}", recorded);
    await conforms("get", "/api/messages", await app.api(`/api/messages?topic=${TOPIC}&limit=1`));
    const searched = (await conforms(
      "get",
      "/api/messages",
      await app.api(`/api/messages?filter=${encodeURIComponent("id = c-1 data.n != 2")}&limit=1`),
    )) as { items: Array<{ id: string }> };
    expect(searched.items.map((m) => m.id)).toEqual(["c-1"]);
    const hour = new Date(Date.now() - 3600_000).toISOString();
    const series = (await conforms("get", "/api/topics/{topic}/series", await app.api(`/api/topics/${TOPIC}/series?from=${hour}`))) as {
      points: Array<{ recorded: number }>;
    };
    expect(series.points.reduce((n, p) => n + p.recorded, 0)).toBeGreaterThanOrEqual(1);
    await conforms("post", "/api/messages/{id}/replay", await app.api("/api/messages/c-1/replay", { method: "POST" }));

    await conforms("post", "/api/topics/{topic}/failure", await app.api(`/api/topics/${ORDERED}/failure`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"failing":true}' }));
    await conforms("post", "/api/topics/{topic}/events", await app.api(`/api/topics/${ORDERED}/events`, event("c-stall", { orderingkey: "k1" })));
    await app.api(`/api/topics/${ORDERED}/failure`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"failing":false}' });
    const stalls = (await conforms("get", "/api/ordering", await app.api(`/api/ordering?topic=${ORDERED}`))) as { stalled: Array<{ id: string }> };
    expect(stalls.stalled.length).toBeGreaterThan(0);
    const page = (await conforms("get", "/api/ordering/{stallId}/messages", await app.api(`/api/ordering/${stalls.stalled[0]!.id}/messages?limit=1`))) as {
      items: Array<{ id: string }>;
    };
    expect(page.items.map((m) => m.id)).toEqual(["c-stall"]);
    await conforms("post", "/api/ordering/{stallId}/resume", await app.api(`/api/ordering/${stalls.stalled[0]!.id}/resume`, { method: "POST" }));
    await conforms("post", "/api/ordering/{stallId}/discard", await app.api(`/api/ordering/${stalls.stalled[0]!.id}/discard`, { method: "POST" }));

    for (const path of ["/api/topics", "/api/subscriptions", "/api/demo", "/api/session", "/api/audit", "/api/health"]) {
      await conforms("get", path, await app.api(path));
    }
    await conforms("get", "/api/health", await fetch(`${app.url}/api/health`));
    await conforms("post", "/api/demo", await app.api("/api/demo", { method: "POST", headers: { "content-type": "application/json" }, body: '{"running":false}' }));
    await conforms("delete", "/api/topics/{topic}", await app.api("/api/topics/contract-made", { method: "DELETE" }));
    expect(await conforms("get", "/api/metrics", await app.api("/api/metrics"))).toContain("whisper_topics_managed");
  });

  it("problem answers too", async () => {
    await conforms("get", "/api/messages/{id}", await app.api("/api/messages/none"));
    await conforms("post", "/api/topics", await app.api("/api/topics", { method: "POST", headers: { "content-type": "application/json" }, body: `{"name":"${TOPIC}"}` }));
    await conforms("post", "/api/login", await fetch(`${app.url}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"token":"wrong-token-0000000"}' }));
  });
});
