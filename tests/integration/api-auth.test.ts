import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, hostnameFromArgv, loadConfig } from "@/server/config";
import { apiRoutes, ROOT, createSchema, ensureBuilt, fillPath, startApp, type ApiRoute, type RunningApp, type TestSchema } from "../support/app";

/**
 * Authentication of every admin API route, over real HTTP against the production build. The routes are
 * ENUMERATED from app/api/**\/route.ts and their exported methods, so a new route is covered (or this fails).
 */

const SAMPLE = { topic: "auth-demo", id: "no-such-message", stallId: "no-such-stall", path: "no-such-route" };
/** Routes reachable without a token, each with the reason. */
const PUBLIC: Record<string, string> = {
  "GET /api/health": "load balancers and probes call it without credentials",
};

let schema: TestSchema;
let app: RunningApp;
let routes: ApiRoute[];

beforeAll(async () => {
  await ensureBuilt();
  schema = await createSchema("api_auth");
  app = await startApp({ databaseUrl: schema.databaseUrl, topics: SAMPLE.topic });
  routes = await apiRoutes();
});

afterAll(async () => {
  await app?.stop();
  await schema?.drop();
});

function operations(): Array<{ method: string; path: string; url: string }> {
  return routes.flatMap((r) => r.methods.map((method) => ({ method, path: r.path, url: fillPath(r.path, SAMPLE) })));
}

async function expectUnauthorized(response: Response, what: string): Promise<void> {
  expect(response.status, what).toBe(401);
  expect(response.headers.get("content-type"), what).toContain("application/problem+json");
  const body = await response.json();
  expect(body, what).toMatchObject({ status: 401, title: "Unauthorized" });
  expect(typeof body.detail, what).toBe("string");
}

describe("route enumeration", () => {
  it("finds the contract's routes, each exporting at least one method", () => {
    const paths = routes.map((r) => r.path);
    for (const p of ["/api/topics", "/api/topics/{topic}/events", "/api/live", "/api/health", "/api/ordering/{stallId}/resume"]) {
      expect(paths).toContain(p);
    }
    for (const r of routes) expect(r.methods.length, r.file).toBeGreaterThan(0);
  });

  it("every route file is declared force-dynamic on the nodejs runtime", async () => {
    const { readFile } = await import("node:fs/promises");
    for (const r of routes) {
      const source = await readFile(`${ROOT}/${r.file}`, "utf8");
      expect(source, r.file).toMatch(/export const dynamic = "force-dynamic"/);
      expect(source, r.file).toMatch(/export const runtime = "nodejs"/);
    }
  });

  it("/api/openapi.json describes every route file and method", async () => {
    const doc = await (await app.api("/api/openapi.json")).json();
    expect(doc.openapi).toBe("3.1.0");
    for (const { method, path } of operations()) {
      if (path === "/api/{path}") continue; // the catch-all answers 404 for paths that are not in the API
      expect(doc.paths[path]?.[method.toLowerCase()], `${method} ${path}`).toBeDefined();
    }
  });
});

describe("authentication on every route", () => {
  it("rejects a request without credentials (except the public ones)", async () => {
    for (const { method, path, url } of operations()) {
      const name = `${method} ${path}`;
      const response = await fetch(`${app.url}${url}`, { method });
      if (PUBLIC[name]) {
        expect(response.status, name).toBe(200);
        continue;
      }
      if (name === "POST /api/login") {
        // Login authenticates by its body: without one it is a 400 problem, never a session.
        expect(response.status, name).toBe(400);
        expect(response.headers.get("set-cookie"), name).toBeNull();
        continue;
      }
      await expectUnauthorized(response, name);
    }
  });

  it("rejects a wrong bearer token, a malformed Authorization header and a forged session cookie", async () => {
    for (const { method, path, url } of operations()) {
      const name = `${method} ${path}`;
      if (PUBLIC[name]) continue;
      if (name === "POST /api/login") {
        const response = await fetch(`${app.url}${url}`, {
          method,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ token: `${app.token}x` }),
        });
        await expectUnauthorized(response, `${name} with a wrong token`);
        expect(response.headers.get("set-cookie")).toBeNull();
        continue;
      }
      const attempts: Array<Record<string, string>> = [
        { authorization: `Bearer ${app.token}x` },
        { authorization: `Basic ${Buffer.from(`admin:${app.token}`).toString("base64")}` },
        // With the dashboard's own Origin, as its pages send it (a foreign origin is refused before this: 403).
        { cookie: `whisper_session=${app.token}`, origin: app.url },
      ];
      for (const headers of attempts) {
        await expectUnauthorized(await fetch(`${app.url}${url}`, { method, headers }), `${name} with ${Object.keys(headers)[0]}`);
      }
    }
  });

  it("accepts the bearer token, and the session cookie from /api/login until logout", async () => {
    expect((await app.api("/api/topics")).status).toBe(200);
    const login = await fetch(`${app.url}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: app.token }),
    });
    expect(login.status).toBe(204);
    const setCookie = login.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^whisper_session=[^;]+;/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).not.toContain(app.token);
    const cookie = setCookie.split(";", 1)[0]!;
    const topics = await fetch(`${app.url}/api/topics`, { headers: { cookie } });
    expect(topics.status).toBe(200);
    const logout = await fetch(`${app.url}/api/logout`, { method: "POST", headers: { cookie, origin: app.url } });
    expect(logout.status).toBe(204);
    expect(logout.headers.get("set-cookie")).toMatch(/Max-Age=0/);
    // Logout ended the session on the server: the cookie, kept, no longer works.
    expect((await fetch(`${app.url}/api/topics`, { headers: { cookie } })).status).toBe(401);
  });
});

describe("without WHISPER_ADMIN_TOKEN", () => {
  it("generates a token, prints it with the URL, and serves on 127.0.0.1 with it", async () => {
    const other = await startApp({ databaseUrl: schema.databaseUrl, token: null });
    try {
      const printed = /admin token \(generated[^)]*\): (\S+)/.exec(other.output());
      expect(printed, other.output()).not.toBeNull();
      expect(other.output()).toContain(`whisper: dashboard at ${other.url}`);
      const token = printed![1]!;
      expect((await fetch(`${other.url}/api/topics`)).status).toBe(401);
      const ok = await fetch(`${other.url}/api/topics`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
    } finally {
      await other.stop();
    }
  });

  it("refuses a non-loopback address (next start without -H binds 0.0.0.0)", () => {
    // Checked on the config, not by starting a server: these tests bind 127.0.0.1 only.
    const env = { DATABASE_URL: schema.databaseUrl };
    expect(() => loadConfig(env, "0.0.0.0")).toThrow(/refusing to serve on 0\.0\.0\.0 without WHISPER_ADMIN_TOKEN/);
    expect(() => loadConfig({ ...env, HOSTNAME: "10.1.2.3" })).toThrow(ConfigError);
    expect(loadConfig(env, "127.0.0.1").tokenGenerated).toBe(true);
    expect(loadConfig({ ...env, WHISPER_ADMIN_TOKEN: "a-long-enough-token-0123" }, "0.0.0.0").hostname).toBe("0.0.0.0");
    expect(hostnameFromArgv(["node", "next", "start", "-p", "3000", "-H", "127.0.0.1"])).toBe("127.0.0.1");
    expect(hostnameFromArgv(["node", "next", "start", "--hostname=::1"])).toBe("::1");
  });
});
