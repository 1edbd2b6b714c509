import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSchema, ensureBuilt, startApp, type RunningApp, type TestSchema } from "../support/app";
import { chunkedUpload, keepSendingUpload, rssMiB } from "../support/http";

/**
 * Request bodies are limited while they stream in, on every route and before any authentication work: an
 * endless or oversized upload costs the server a bounded amount of memory and gets a 413 problem.
 */

const TOPIC = "limits";
const HUGE = 256 * 1024 * 1024;
/** What one huge upload may add to the server's resident memory, at its peak. */
const MAX_GROWTH_MIB = 64;

let schema: TestSchema;
let app: RunningApp;

beforeAll(async () => {
  await ensureBuilt();
  schema = await createSchema("api_limits");
  app = await startApp({ databaseUrl: schema.databaseUrl, topics: TOPIC });
});

afterAll(async () => {
  await app?.stop();
  await schema?.drop();
});

/** Runs `upload` while sampling the server's RSS every 20 ms; returns its answer and the peak growth. */
async function measured<T>(upload: () => Promise<T>): Promise<{ answer: T; growthMiB: number }> {
  const before = rssMiB(app.pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(app.pid))), 20);
  try {
    const answer = await upload();
    peak = Math.max(peak, rssMiB(app.pid));
    return { answer, growthMiB: peak - before };
  } finally {
    clearInterval(sampler);
  }
}

function expectTooLarge(answer: { status: number; headers: Record<string, unknown>; body: string }, what: string): void {
  expect(answer.status, what).toBe(413);
  expect(String(answer.headers["content-type"]), what).toContain("application/problem+json");
  expect(JSON.parse(answer.body), what).toMatchObject({ status: 413, title: "Content Too Large" });
}

describe("a 256 MiB chunked body", () => {
  it("to /api/login (no credentials) is a 413 and the server's memory barely moves", async () => {
    const { answer, growthMiB } = await measured(() =>
      chunkedUpload(app.url, "/api/login", { "content-type": "application/json" }, HUGE),
    );
    expectTooLarge(answer, "login");
    expect(answer.sent, "the server answered long before the upload ended").toBeLessThan(HUGE);
    expect(growthMiB).toBeLessThan(MAX_GROWTH_MIB);
  });

  it("to the events route without credentials is a 413 too (the limit comes before authentication)", async () => {
    const { answer, growthMiB } = await measured(() =>
      chunkedUpload(app.url, `/api/topics/${TOPIC}/events`, { "content-type": "application/cloudevents+json" }, HUGE),
    );
    expectTooLarge(answer, "events, anonymous");
    expect(growthMiB).toBeLessThan(MAX_GROWTH_MIB);
  });

  it("to the events route with the token is a 413 after its 4 MiB limit", async () => {
    const { answer, growthMiB } = await measured(() =>
      chunkedUpload(
        app.url,
        `/api/topics/${TOPIC}/events`,
        { "content-type": "application/cloudevents+json", authorization: `Bearer ${app.token}` },
        HUGE,
      ),
    );
    expectTooLarge(answer, "events, admin");
    expect(JSON.parse(answer.body).detail).toContain("4194304 bytes");
    expect(growthMiB).toBeLessThan(MAX_GROWTH_MIB);
  });

  for (const connection of ["keep-alive", "close"]) {
    it(`to a client that keeps sending after the 413 still reaches it whole, with no reset (connection: ${connection})`, async () => {
      // Closing a socket with unread data makes TCP reset it, and a client still writing then loses the answer
      // (EPIPE/ECONNRESET before it read the 413): the server goes on reading and dropping for a while.
      const { answer, sentAfterAnswer, error } = await keepSendingUpload(
        app.url,
        `/api/topics/${TOPIC}/events`,
        { "content-type": "application/cloudevents+json", authorization: `Bearer ${app.token}`, connection },
        { keepSendingMs: 1_000, bytesPerSecond: 8 * 1024 * 1024 },
      );
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer).toContain("4194304 bytes");
      expect(sentAfterAnswer, "the client went on sending after the answer").toBeGreaterThan(1024 * 1024);
      expect(error, "the connection ended without a reset").toBeUndefined();
    });
  }

  it("leaves the server serving", async () => {
    expect((await app.api("/api/topics")).status).toBe(200);
  });
});

describe("limits per route", () => {
  it("login reads at most 4 KiB, declared or not", async () => {
    const body = JSON.stringify({ token: "x".repeat(5000) });
    expectTooLarge(
      await chunkedUpload(app.url, "/api/login", { "content-type": "application/json" }, 8 * 1024),
      "chunked 8 KiB",
    );
    const declared = await fetch(`${app.url}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(declared.status).toBe(413);
    expect((await declared.json()).detail).toMatch(/request body of \d+ bytes exceeds the limit of 4096 bytes/);
  });

  it("admin JSON routes take at most 64 KiB", async () => {
    const response = await app.api("/api/topics", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "x".repeat(70 * 1024) }),
    });
    expect(response.status).toBe(413);
    expect(response.headers.get("content-type")).toContain("application/problem+json");
  });

  it("routes without a body take nothing or {}, and refuse anything else", async () => {
    for (const path of ["/api/logout", "/api/ordering/some-stall/resume", "/api/ordering/some-stall/discard"]) {
      const post = (headers: Record<string, string>, body: string) => app.api(path, { method: "POST", headers, body });
      const big = await post({ "content-type": "application/json" }, JSON.stringify({ pad: "x".repeat(100) }));
      expect(big.status, path).toBe(413);
      expect((await big.json()).detail, path).toMatch(/exceeds the limit of 64 bytes/);
      expect((await post({ "content-type": "application/json" }, '{"all":true}')).status, path).toBe(400);
      expect((await post({ "content-type": "text/plain" }, "{}")).status, path).toBe(415);
      expect([204, 404], path).toContain((await post({ "content-type": "application/json" }, "{}")).status);
    }
  });
});
