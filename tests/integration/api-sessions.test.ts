import { createHash } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSchema, ensureBuilt, startApp, type RunningApp, type TestSchema } from "../support/app";

/**
 * Sessions are real: a random id per login stored (hashed) in Postgres, ended by logout, by idle or absolute
 * expiry and by rotating the token that opened them. Logins are throttled per client address. Cookie-
 * authenticated changes must come from the dashboard's own origin.
 */

const ADMIN = "sessions-admin-token-0123456789";
const VIEWER = "sessions-viewer-token-0123456789";

let schema: TestSchema;
let app: RunningApp;
let db: pg.Client;

beforeAll(async () => {
  await ensureBuilt();
  schema = await createSchema("api_sessions");
  app = await startApp({ databaseUrl: schema.databaseUrl, token: ADMIN, env: { WHISPER_VIEWER_TOKEN: VIEWER } });
  db = new pg.Client({ connectionString: schema.databaseUrl.replace(/\?schema=.*$/, "") });
  await db.connect();
  await db.query(`set search_path to "${schema.name}"`);
});

afterAll(async () => {
  await db?.end();
  await app?.stop();
  await schema?.drop();
});

async function login(target: RunningApp, token: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${target.url}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ token }),
  });
}

async function cookieOf(target: RunningApp, token: string): Promise<string> {
  const response = await login(target, token);
  expect(response.status).toBe(204);
  return (response.headers.get("set-cookie") ?? "").split(";", 1)[0]!;
}

const idHash = (cookie: string) => createHash("sha256").update(cookie.split("=")[1]!).digest("hex");

async function expectSessionRefused(response: Response, why: RegExp): Promise<void> {
  expect(response.status).toBe(401);
  expect(response.headers.get("set-cookie")).toMatch(/^whisper_session=; .*Max-Age=0/);
  expect((await response.json()).detail).toMatch(why);
}

describe("sessions", () => {
  it("every login opens a new random session; only its hash is stored, with the role and an expiry", async () => {
    const first = await login(app, ADMIN);
    const second = await cookieOf(app, ADMIN);
    const setCookie = first.headers.get("set-cookie") ?? "";
    const cookie = setCookie.split(";", 1)[0]!;
    expect(cookie).not.toBe(second);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Max-Age=86400/);
    const { rows } = await db.query("select id_hash, role, token_hash from sessions where id_hash = $1", [idHash(cookie)]);
    expect(rows).toHaveLength(1);
    expect(rows[0].role).toBe("admin");
    expect(rows[0].token_hash).not.toContain(ADMIN);
    const stored = await db.query("select count(*)::int as n from sessions where id_hash = $1", [cookie.split("=")[1]]);
    expect(stored.rows[0].n).toBe(0);
    const who = await fetch(`${app.url}/api/session`, { headers: { cookie } });
    expect(await who.json()).toMatchObject({ role: "admin", via: "session", expiresAt: expect.any(String) });
  });

  it("logout deletes the session, so the kept cookie is dead", async () => {
    const cookie = await cookieOf(app, ADMIN);
    expect((await fetch(`${app.url}/api/topics`, { headers: { cookie } })).status).toBe(200);
    const logout = await fetch(`${app.url}/api/logout`, { method: "POST", headers: { cookie, origin: app.url } });
    expect(logout.status).toBe(204);
    expect((await db.query("select 1 from sessions where id_hash = $1", [idHash(cookie)])).rowCount).toBe(0);
    await expectSessionRefused(await fetch(`${app.url}/api/topics`, { headers: { cookie } }), /session is not valid/);
  });

  it("a session idle longer than the limit ends", async () => {
    const cookie = await cookieOf(app, ADMIN);
    await db.query("update sessions set last_seen_at = now() - interval '9 hours' where id_hash = $1", [idHash(cookie)]);
    await expectSessionRefused(await fetch(`${app.url}/api/topics`, { headers: { cookie } }), /expired after inactivity/);
    expect((await db.query("select 1 from sessions where id_hash = $1", [idHash(cookie)])).rowCount).toBe(0);
  });

  it("use keeps a session alive: last_seen_at moves forward", async () => {
    const cookie = await cookieOf(app, ADMIN);
    await db.query("update sessions set last_seen_at = now() - interval '2 hours' where id_hash = $1", [idHash(cookie)]);
    expect((await fetch(`${app.url}/api/topics`, { headers: { cookie } })).status).toBe(200);
    const { rows } = await db.query("select now() - last_seen_at < interval '1 hour' as fresh from sessions where id_hash = $1", [idHash(cookie)]);
    expect(rows[0].fresh).toBe(true);
  });

  it("a session past its absolute expiry ends, however much it is used", async () => {
    const cookie = await cookieOf(app, ADMIN);
    await db.query("update sessions set expires_at = now() - interval '1 second' where id_hash = $1", [idHash(cookie)]);
    await expectSessionRefused(await fetch(`${app.url}/api/topics`, { headers: { cookie } }), /session expired/);
  });

  it("rotating a token ends the sessions it opened, and only those", async () => {
    const admin = await cookieOf(app, ADMIN);
    const viewer = await cookieOf(app, VIEWER);
    await app.stop();
    app = await startApp({ databaseUrl: schema.databaseUrl, token: `${ADMIN}-rotated`, env: { WHISPER_VIEWER_TOKEN: VIEWER } });
    await expectSessionRefused(await fetch(`${app.url}/api/topics`, { headers: { cookie: admin } }), /admin token changed/);
    expect((await fetch(`${app.url}/api/topics`, { headers: { cookie: viewer } })).status).toBe(200);
    await app.stop();
    app = await startApp({ databaseUrl: schema.databaseUrl, token: ADMIN, env: { WHISPER_VIEWER_TOKEN: VIEWER } });
  });
});

describe("cross-site requests", () => {
  it("a cookie-authenticated change from another origin, or without Origin, is refused", async () => {
    const cookie = await cookieOf(app, ADMIN);
    const other = app.url.replace(/:\d+$/, ":1");
    const attempts: Array<Record<string, string>> = [
      { origin: other },
      { origin: "null" },
      { origin: "https://evil.example" },
      { "sec-fetch-site": "same-site" },
      { "sec-fetch-site": "cross-site" },
      {},
    ];
    for (const headers of attempts) {
      const response = await fetch(`${app.url}/api/topics`, {
        method: "POST",
        headers: { cookie, "content-type": "application/json", ...headers },
        body: JSON.stringify({ name: "csrf-made" }),
      });
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect(response.headers.get("content-type")).toContain("application/problem+json");
    }
    // The no-cors shape: text/plain body, the page's own origin: refused on the origin before anything else.
    const noCors = await fetch(`${app.url}/api/messages/any/replay`, {
      method: "POST",
      headers: { cookie, origin: other, "content-type": "text/plain" },
      body: "{}",
    });
    expect(noCors.status).toBe(403);
    const topics = await (await app.api("/api/topics")).json();
    expect(topics.topics.map((t: { name: string }) => t.name)).not.toContain("csrf-made");
  });

  it("the dashboard's own origin may change things with the cookie; scripts with a bearer token need no Origin", async () => {
    const cookie = await cookieOf(app, ADMIN);
    const own = await fetch(`${app.url}/api/topics`, {
      method: "POST",
      headers: { cookie, origin: app.url, "content-type": "application/json" },
      body: JSON.stringify({ name: "same-origin-made" }),
    });
    expect(own.status).toBe(201);
    const sameOrigin = await fetch(`${app.url}/api/topics/same-origin-made`, {
      method: "DELETE",
      headers: { cookie, "sec-fetch-site": "same-origin" },
    });
    expect(sameOrigin.status).toBe(204);
    const script = await app.api("/api/topics", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "script-made" }) });
    expect(script.status).toBe(201);
  });

  it("a login from another origin is refused (no session planted from outside)", async () => {
    const response = await login(app, ADMIN, { origin: "http://127.0.0.1:1" });
    expect(response.status).toBe(403);
    expect(response.headers.get("set-cookie")).toBeNull();
  });
});

describe("behind a reverse proxy", () => {
  let proxied: RunningApp;

  beforeAll(async () => {
    proxied = await startApp({
      databaseUrl: schema.databaseUrl,
      token: ADMIN,
      env: { WHISPER_TRUSTED_ORIGINS: "https://whisper.example.com", WHISPER_TRUSTED_PROXIES: "127.0.0.1" },
    });
  });

  afterAll(async () => {
    await proxied?.stop();
  });

  it("WHISPER_TRUSTED_ORIGINS admits the proxy's public origin", async () => {
    const cookie = await cookieOf(proxied, ADMIN);
    const response = await fetch(`${proxied.url}/api/topics`, {
      method: "POST",
      headers: { cookie, origin: "https://whisper.example.com", host: "internal:3000", "content-type": "application/json" },
      body: JSON.stringify({ name: "via-proxy" }),
    });
    expect(response.status).toBe(201);
  });

  it("throttles failed logins per client address with 429 and Retry-After, even for the right token", async () => {
    const from = (address: string) => ({ "x-forwarded-for": `203.0.113.7, ${address}` });
    for (let i = 0; i < 10; i++) expect((await login(proxied, "wrong-token-000000", from("198.51.100.1"))).status).toBe(401);
    const blocked = await login(proxied, ADMIN, from("198.51.100.1"));
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get("content-type")).toContain("application/problem+json");
    const retryAfter = Number(blocked.headers.get("retry-after"));
    expect(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 900).toBe(true);
    expect((await blocked.json()).detail).toMatch(/too many failed logins from 198\.51\.100\.1/);
    // Another client is not affected.
    expect((await login(proxied, ADMIN, from("198.51.100.2"))).status).toBe(204);
  });

  it("without a trusted proxy, X-Forwarded-For is the client's claim and is ignored", async () => {
    const fresh = await startApp({ databaseUrl: schema.databaseUrl, token: ADMIN });
    try {
      for (let i = 0; i < 10; i++) {
        const response = await login(fresh, "wrong-token-000000", { "x-forwarded-for": `192.0.2.${i}` });
        expect(response.status).toBe(401);
      }
      expect((await login(fresh, ADMIN, { "x-forwarded-for": "192.0.2.200" })).status).toBe(429);
    } finally {
      await fresh.stop();
    }
  });
});
