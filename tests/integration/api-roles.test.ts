import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiRoutes, createSchema, ensureBuilt, fillPath, startApp, type ApiRoute, type RunningApp, type TestSchema } from "../support/app";

/**
 * Roles. The routes are ENUMERATED from app/api/**\/route.ts: every method of every route file must be in
 * exactly one of the lists below, so a new route needs a decision. Viewers (WHISPER_VIEWER_TOKEN) are refused
 * every mutating one with 403 problem+json and allowed every read; admins may do everything. And the audit
 * log of what admins did can be read and filtered through GET /api/audit.
 */

const VIEWER = "roles-viewer-token-0123456789";
const TOPIC = "roles-topic";
const SAMPLE = { topic: TOPIC, id: "no-such-message", stallId: "no-such-stall", path: "no-such-route" };

/** Mutating operations only admins may call. */
const ADMIN_ONLY = [
  "POST /api/topics",
  "PATCH /api/topics/{topic}",
  "DELETE /api/topics/{topic}",
  "POST /api/topics/{topic}/events",
  "POST /api/topics/{topic}/failure",
  "POST /api/messages/{id}/replay",
  "POST /api/ordering/{stallId}/resume",
  "POST /api/ordering/{stallId}/discard",
  "POST /api/demo",
  "POST /api/{path}",
  "PUT /api/{path}",
  "PATCH /api/{path}",
  "DELETE /api/{path}",
];
/** Reads every authenticated caller may make. */
const READS = [
  "GET /api/topics",
  "GET /api/messages",
  "GET /api/messages/{id}",
  "GET /api/ordering",
  "GET /api/ordering/{stallId}/messages",
  "GET /api/topics/{topic}/series",
  "GET /api/subscriptions",
  "GET /api/live",
  "GET /api/demo",
  "GET /api/metrics",
  "GET /api/openapi.json",
  "GET /api/audit",
  "GET /api/session",
  "GET /api/health",
  "GET /api/{path}",
];
/** Mutating operations a viewer may call, each with the reason. */
const VIEWER_MAY: Record<string, string> = {
  "POST /api/login": "logging in is how a viewer gets a session (authenticated by its body)",
  "POST /api/logout": "a viewer ends its own session",
};

let schema: TestSchema;
let app: RunningApp;
let routes: ApiRoute[];

beforeAll(async () => {
  await ensureBuilt();
  schema = await createSchema("api_roles");
  app = await startApp({ databaseUrl: schema.databaseUrl, topics: TOPIC, env: { WHISPER_VIEWER_TOKEN: VIEWER } });
  routes = await apiRoutes();
});

afterAll(async () => {
  await app?.stop();
  await schema?.drop();
});

const operations = (sample: Record<string, string> = SAMPLE) =>
  routes.flatMap((r) => r.methods.map((method) => ({ name: `${method} ${r.path}`, method, url: fillPath(r.path, sample) })));

/** Routes that take a JSON body (the others refuse one). */
const WITH_BODY = /^\/api\/(topics|demo|topics\/[^/]+\/(events|failure)|messages\/[^/]+\/replay)$/;

/** Sends the operation; for the SSE route only the status matters, so the stream is closed at once. */
async function call(method: string, url: string, token: string): Promise<Response> {
  const controller = new AbortController();
  const body = method !== "GET" && WITH_BODY.test(url);
  const response = await fetch(`${app.url}${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: "{}" } : {}),
    signal: controller.signal,
  });
  if (url.startsWith("/api/live")) controller.abort();
  return response;
}

describe("every route has a role decision", () => {
  it("each method of each route file is listed exactly once", () => {
    const declared = operations().map((o) => o.name).sort();
    const decided = [...ADMIN_ONLY, ...READS, ...Object.keys(VIEWER_MAY)].sort();
    expect(decided).toEqual(declared);
  });
});

describe("a viewer", () => {
  it("is refused every admin-only operation with 403 problem+json (bearer)", async () => {
    for (const { name, method, url } of operations().filter((o) => ADMIN_ONLY.includes(o.name))) {
      const response = await call(method, url, VIEWER);
      expect(response.status, name).toBe(403);
      expect(response.headers.get("content-type"), name).toContain("application/problem+json");
      expect((await response.json()).detail, name).toMatch(/needs the admin role; this bearer has the viewer role/);
    }
  });

  it("is allowed every read", async () => {
    for (const { name, method, url } of operations().filter((o) => READS.includes(o.name))) {
      const response = await call(method, url, VIEWER);
      expect([401, 403], name).not.toContain(response.status);
      expect(response.status, name).toBeLessThan(500);
    }
  });

  it("with a session is refused the same way, and GET /api/session says viewer", async () => {
    const login = await fetch(`${app.url}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: VIEWER }),
    });
    expect(login.status).toBe(204);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";", 1)[0]!;
    expect(await (await fetch(`${app.url}/api/session`, { headers: { cookie } })).json()).toMatchObject({ role: "viewer", via: "session" });
    const replay = await fetch(`${app.url}/api/messages/x/replay`, {
      method: "POST",
      headers: { cookie, origin: app.url, "content-type": "application/json" },
      body: "{}",
    });
    expect(replay.status).toBe(403);
    const logout = await fetch(`${app.url}/api/logout`, { method: "POST", headers: { cookie, origin: app.url } });
    expect(logout.status).toBe(204);
  });

  it("changed nothing: no topic, no audit entry came from a viewer", async () => {
    const audit = await (await app.api("/api/audit?actor=viewer")).json();
    expect(audit.items.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(["session.login"]));
    expect(audit.items.every((e: { action: string }) => e.action.startsWith("session."))).toBe(true);
  });
});

describe("an admin", () => {
  it("is refused nothing by role", async () => {
    // On a topic nobody uses: these calls really run (and the DELETE would remove the test's topic).
    for (const { name, method, url } of operations({ ...SAMPLE, topic: "roles-scratch" }).filter((o) => ADMIN_ONLY.includes(o.name))) {
      const response = await call(method, url, app.token);
      expect(response.status, name).not.toBe(403);
    }
  });
});

describe("GET /api/audit", () => {
  it("shows who did what to which target, filtered and paginated", async () => {
    for (const name of ["audit-a", "audit-b", "audit-c"]) {
      const created = await app.api("/api/topics", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name }) });
      expect(created.status).toBe(201);
    }
    expect((await app.api("/api/topics/audit-b", { method: "DELETE" })).status).toBe(204);
    const failure = await app.api(`/api/topics/${TOPIC}/failure`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"failing":true}' });
    expect(failure.status).toBe(200);

    const all = await (await app.api("/api/audit?actor=admin:bearer")).json();
    const summary = all.items.map((e: { action: string; target: string }) => `${e.action} ${e.target}`);
    expect(summary).toEqual(expect.arrayContaining(["topic.create audit-a", "topic.delete audit-b", `topic.failure ${TOPIC}`]));
    expect(all.items[0]).toMatchObject({ actor: "admin:bearer", at: expect.any(String), id: expect.any(String) });

    const creates = await (await app.api("/api/audit?action=topic.create&limit=2")).json();
    expect(creates.items.map((e: { target: string }) => e.target)).toEqual(["audit-c", "audit-b"]);
    expect(creates.nextCursor).toEqual(expect.any(String));
    const next = await (await app.api(`/api/audit?action=topic.create&limit=2&cursor=${creates.nextCursor}`)).json();
    expect(next.items.map((e: { target: string }) => e.target)).toContain("audit-a");

    const byTarget = await (await app.api("/api/audit?target=audit-b")).json();
    expect(byTarget.items.map((e: { action: string }) => e.action).sort()).toEqual(["topic.create", "topic.delete"]);

    const viewer = await fetch(`${app.url}/api/audit?target=audit-b`, { headers: { authorization: `Bearer ${VIEWER}` } });
    expect(viewer.status).toBe(200);

    for (const bad of ["cursor=abc", "limit=0", "actor=a%00b", "from=yesterday", "colour=red"]) {
      const response = await app.api(`/api/audit?${bad}`);
      expect(response.status, bad).toBe(400);
      expect(response.headers.get("content-type"), bad).toContain("application/problem+json");
    }
  });
});
