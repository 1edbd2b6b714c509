import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiRoutes, createSchema, ensureBuilt, startApp, type RunningApp, type TestSchema } from "../support/app";

/**
 * Bad input on every route gets a 4xx application/problem+json body (never a 500, never a crash). The table
 * below must name every method of every route file under app/api (the first test enforces that), each with
 * inputs that are wrong in different ways.
 */

interface BadRequest {
  why: string;
  url: string;
  init?: RequestInit;
  /** Expected status (default 400). */
  status?: number;
}

const TOPIC = "bad-input";
const json = (body: unknown, extra: Record<string, string> = {}): RequestInit => ({
  headers: { "content-type": "application/json", ...extra },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

const BAD: Record<string, BadRequest[]> = {
  "POST /api/login": [
    { why: "no body", url: "/api/login" },
    { why: "token is a number", url: "/api/login", init: json({ token: 42 }) },
    { why: "not JSON", url: "/api/login", init: json("{token:") },
  ],
  "POST /api/logout": [{ why: "unknown query parameter", url: "/api/logout?everywhere=1" }],
  "GET /api/topics": [{ why: "unknown query parameter", url: "/api/topics?x=1" }],
  "POST /api/topics": [
    { why: "no name", url: "/api/topics", init: json({}) },
    { why: "name with a space", url: "/api/topics", init: json({ name: "a b" }) },
    { why: "NATS wildcard in the name", url: "/api/topics", init: json({ name: "orders.>" }) },
    { why: "ordering is a string", url: "/api/topics", init: json({ name: "ok", ordering: "yes" }) },
    { why: "unknown field", url: "/api/topics", init: json({ name: "ok", colour: "red" }) },
    { why: "body is an array", url: "/api/topics", init: json([]) },
    { why: "not JSON", url: "/api/topics", init: json("{") },
    { why: "not a JSON content type", url: "/api/topics", init: { headers: { "content-type": "text/plain" }, body: "name=x" }, status: 415 },
    { why: "existing topic", url: "/api/topics", init: json({ name: TOPIC }), status: 409 },
  ],
  "PATCH /api/topics/{topic}": [
    { why: "no retention", url: `/api/topics/${TOPIC}`, init: json({}) },
    { why: "negative row limit", url: `/api/topics/${TOPIC}`, init: json({ retention: { maxRows: -1 } }) },
    { why: "age not a whole number", url: `/api/topics/${TOPIC}`, init: json({ retention: { maxAgeSeconds: 1.5 } }) },
    { why: "unknown retention field", url: `/api/topics/${TOPIC}`, init: json({ retention: { maxBytes: 1 } }) },
    { why: "invalid name", url: "/api/topics/a%20b", init: json({ retention: {} }) },
    { why: "unknown topic", url: "/api/topics/never-created", init: json({ retention: { maxRows: 5 } }), status: 404 },
  ],
  "DELETE /api/topics/{topic}": [
    { why: "invalid name", url: "/api/topics/a%20b" },
    { why: "unknown topic", url: "/api/topics/never-created", status: 404 },
  ],
  "POST /api/topics/{topic}/events": [
    { why: "not a CloudEvent", url: `/api/topics/${TOPIC}/events`, init: json({ hello: 1 }), status: 415 },
    {
      why: "structured event without id",
      url: `/api/topics/${TOPIC}/events`,
      init: { headers: { "content-type": "application/cloudevents+json" }, body: JSON.stringify({ specversion: "1.0", source: "/t", type: "t" }) },
    },
    {
      why: "structured event that is not JSON",
      url: `/api/topics/${TOPIC}/events`,
      init: { headers: { "content-type": "application/cloudevents+json" }, body: "{" },
    },
    {
      why: "unsupported specversion",
      url: `/api/topics/${TOPIC}/events`,
      init: {
        headers: { "content-type": "application/cloudevents+json" },
        body: JSON.stringify({ specversion: "0.3", id: "1", source: "/t", type: "t" }),
      },
    },
    {
      why: "batch that is an object",
      url: `/api/topics/${TOPIC}/events`,
      init: { headers: { "content-type": "application/cloudevents-batch+json" }, body: "{}" },
    },
    {
      why: "empty batch",
      url: `/api/topics/${TOPIC}/events`,
      init: { headers: { "content-type": "application/cloudevents-batch+json" }, body: "[]" },
    },
    {
      why: "NUL in an attribute (history cannot store it)",
      url: `/api/topics/${TOPIC}/events`,
      init: { headers: { "ce-specversion": "1.0", "ce-id": "1", "ce-source": "/t", "ce-type": "t", "ce-subject": "a%00b" }, body: "x" },
    },
    {
      why: "id over 1,024 bytes (history indexes it)",
      url: `/api/topics/${TOPIC}/events`,
      init: {
        headers: { "content-type": "application/cloudevents+json" },
        body: JSON.stringify({ specversion: "1.0", id: "i".repeat(1025), source: "/t", type: "t" }),
      },
    },
    {
      why: "binary mode without ce-type",
      url: `/api/topics/${TOPIC}/events`,
      init: { headers: { "ce-specversion": "1.0", "ce-id": "1", "ce-source": "/t" }, body: "x" },
    },
    {
      why: "binary mode with an upper-case extension",
      url: `/api/topics/${TOPIC}/events`,
      init: { method: "POST", headers: { "ce-specversion": "1.0", "ce-id": "1", "ce-source": "/t", "ce-type": "t", "ce-Bad_Name": "x" } },
    },
    {
      why: "unknown topic",
      url: "/api/topics/never-created/events",
      init: {
        headers: { "content-type": "application/cloudevents+json" },
        body: JSON.stringify({ specversion: "1.0", id: "1", source: "/t", type: "t" }),
      },
      status: 404,
    },
  ],
  "POST /api/topics/{topic}/failure": [
    { why: "no body", url: `/api/topics/${TOPIC}/failure` },
    { why: "failing is a string", url: `/api/topics/${TOPIC}/failure`, init: json({ failing: "true" }) },
    { why: "unknown topic", url: "/api/topics/never-created/failure", init: json({ failing: true }), status: 404 },
  ],
  "GET /api/messages": [
    { why: "limit too large", url: "/api/messages?limit=1000" },
    { why: "limit not a number", url: "/api/messages?limit=ten" },
    { why: "from not a timestamp", url: "/api/messages?from=yesterday" },
    { why: "from after to", url: "/api/messages?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z" },
    { why: "unknown parameter", url: "/api/messages?colour=red" },
    { why: "unknown parameter, even empty", url: "/api/messages?colour=" },
    { why: "repeated parameter", url: "/api/messages?topic=a&topic=b" },
    { why: "cursor that was never issued", url: "/api/messages?cursor=not-a-cursor" },
    { why: "filter with an unknown field", url: `/api/messages?filter=${encodeURIComponent("colour = red")}` },
    { why: "filter comparing text with >", url: `/api/messages?filter=${encodeURIComponent("data.total > lots")}` },
    { why: "filter with an unterminated string", url: `/api/messages?filter=${encodeURIComponent('data.x = "open')}` },
    { why: "filter with a star inside a value", url: `/api/messages?filter=${encodeURIComponent("type = a*b")}` },
    { why: "filter with or", url: `/api/messages?filter=${encodeURIComponent("type = a or type = b")}` },
    { why: "filter over 1000 characters", url: `/api/messages?filter=${"x".repeat(1001)}` },
    { why: "sequence over 2^63 - 1", url: `/api/messages?filter=${encodeURIComponent("seq = 9999999999999999999")}` },
    { why: "cursor and after together", url: "/api/messages?cursor=czE&after=czE" },
    { why: "after that was never issued", url: "/api/messages?after=bm9wZQ" },
    { why: "atSequence without a topic", url: "/api/messages?atSequence=5" },
    { why: "atSequence over 2^63 - 1", url: "/api/messages?topic=a&atSequence=9999999999999999999" },
    { why: "atTime not a timestamp", url: "/api/messages?atTime=noon" },
    { why: "atId names no message", url: "/api/messages?atId=never-recorded", status: 404 },
  ],
  "GET /api/topics/{topic}/series": [
    { why: "no from", url: `/api/topics/${TOPIC}/series` },
    { why: "from not a timestamp", url: `/api/topics/${TOPIC}/series?from=today` },
    { why: "from after to", url: `/api/topics/${TOPIC}/series?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z` },
    { why: "range over 31 days", url: `/api/topics/${TOPIC}/series?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z` },
    { why: "unknown parameter", url: `/api/topics/${TOPIC}/series?from=2026-01-01T00:00:00Z&step=60` },
    { why: "invalid topic name", url: "/api/topics/a%20b/series?from=2026-01-01T00:00:00Z" },
    { why: "unknown topic", url: `/api/topics/never-created/series?from=${new Date(Date.now() - 3600_000).toISOString()}`, status: 404 },
  ],
  "GET /api/messages/{id}": [
    { why: "id over 1,024 bytes", url: `/api/messages/${"x".repeat(1025)}` },
    { why: "id over 1,024 bytes of UTF-8", url: `/api/messages/${encodeURIComponent("€".repeat(342))}` },
    { why: "unknown id", url: "/api/messages/unknown-id", status: 404 },
  ],
  "POST /api/messages/{id}/replay": [
    { why: "keepId is a string", url: "/api/messages/unknown-id/replay", init: json({ keepId: "yes" }) },
    { why: "invalid topic", url: "/api/messages/unknown-id/replay", init: json({ topic: "a b" }) },
    { why: "unknown message", url: "/api/messages/unknown-id/replay", init: json({}), status: 404 },
  ],
  "GET /api/ordering": [
    { why: "invalid topic", url: "/api/ordering?topic=a%20b" },
    { why: "unknown parameter", url: "/api/ordering?status=x" },
  ],
  "GET /api/ordering/{stallId}/messages": [
    { why: "cursor not a number", url: "/api/ordering/unknown-stall/messages?cursor=abc" },
    { why: "cursor zero", url: "/api/ordering/unknown-stall/messages?cursor=0" },
    { why: "cursor beyond any seq", url: "/api/ordering/unknown-stall/messages?cursor=9999999999" },
    { why: "limit too large", url: "/api/ordering/unknown-stall/messages?limit=501" },
    { why: "unknown parameter", url: "/api/ordering/unknown-stall/messages?status=stalled" },
    { why: "unknown stall", url: "/api/ordering/unknown-stall/messages", status: 404 },
  ],
  "POST /api/ordering/{stallId}/resume": [{ why: "unknown stall", url: "/api/ordering/unknown-stall/resume", status: 404 }],
  "POST /api/ordering/{stallId}/discard": [{ why: "unknown stall", url: "/api/ordering/unknown-stall/discard", status: 404 }],
  "GET /api/subscriptions": [
    { why: "invalid topic", url: "/api/subscriptions?topic=*" },
    { why: "unmanaged topic", url: "/api/subscriptions?topic=never-created", status: 404 },
  ],
  "GET /api/live": [
    { why: "limit zero", url: "/api/live?limit=0" },
    { why: "invalid topic", url: "/api/live?topic=a%20b" },
    { why: "unknown parameter", url: "/api/live?since=1" },
  ],
  "GET /api/demo": [{ why: "unknown query parameter", url: "/api/demo?all=1" }],
  "POST /api/demo": [
    { why: "no body", url: "/api/demo" },
    { why: "running is a string", url: "/api/demo", init: json({ running: "yes" }) },
    { why: "unknown field", url: "/api/demo", init: json({ running: true, rate: 5 }) },
  ],
  "GET /api/health": [{ why: "unknown query parameter", url: "/api/health?verbose=1" }],
  "GET /api/session": [{ why: "unknown query parameter", url: "/api/session?all=1" }],
  "GET /api/audit": [
    { why: "cursor that was never issued", url: "/api/audit?cursor=x" },
    { why: "limit too large", url: "/api/audit?limit=501" },
    { why: "from after to", url: "/api/audit?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z" },
    { why: "NUL in a filter", url: "/api/audit?target=a%00b" },
    { why: "unknown parameter", url: "/api/audit?who=me" },
  ],
  "GET /api/openapi.json": [{ why: "unknown query parameter", url: "/api/openapi.json?format=yaml" }],
  "GET /api/metrics": [{ why: "unknown query parameter", url: "/api/metrics?name=x" }],
  "GET /api/{path}": [
    { why: "no such route", url: "/api/nope", status: 404 },
    { why: "no such nested route", url: "/api/topics/a/b/c/d", status: 404 },
  ],
  "POST /api/{path}": [{ why: "no such route", url: "/api/nope", status: 404 }],
  "PUT /api/{path}": [{ why: "no such route", url: "/api/nope", status: 404 }],
  "PATCH /api/{path}": [{ why: "no such route", url: "/api/nope", status: 404 }],
  "DELETE /api/{path}": [{ why: "no such route", url: "/api/nope/deeper", status: 404 }],
};

let schema: TestSchema;
let app: RunningApp;

beforeAll(async () => {
  await ensureBuilt();
  schema = await createSchema("api_bad");
  app = await startApp({ databaseUrl: schema.databaseUrl, topics: `${TOPIC}:ordered` });
});

afterAll(async () => {
  await app?.stop();
  await schema?.drop();
});

describe("bad input", () => {
  it("the table covers every method of every route file", async () => {
    const declared = (await apiRoutes()).flatMap((r) => r.methods.map((m) => `${m} ${r.path}`)).sort();
    expect(Object.keys(BAD).sort()).toEqual(declared);
  });

  for (const [operation, cases] of Object.entries(BAD)) {
    it(`${operation} answers 4xx problem+json`, async () => {
      const method = operation.split(" ", 1)[0]!;
      for (const bad of cases) {
        const response = await app.api(bad.url, { method, ...bad.init });
        const what = `${operation}: ${bad.why}`;
        expect(response.status, what).toBe(bad.status ?? 400);
        expect(response.headers.get("content-type"), what).toContain("application/problem+json");
        const body = await response.json();
        expect(body, what).toMatchObject({ status: bad.status ?? 400 });
        expect(typeof body.type, what).toBe("string");
        expect(typeof body.title, what).toBe("string");
        expect(body.detail, what).toEqual(expect.any(String));
        expect(body.detail.length, what).toBeGreaterThan(0);
      }
      // The server is still healthy after the bad input.
      expect((await fetch(`${app.url}/api/health`)).status).toBe(200);
    });
  }

  it("a field error lists the path of every bad field", async () => {
    const response = await app.api("/api/topics", { method: "POST", ...json({ name: "a b", ordering: "yes" }) });
    const body = await response.json();
    const paths = body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(["body.name", "body.ordering"]));
  });
});
