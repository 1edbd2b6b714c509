import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createMessage,
  ErrorCode,
  HttpStatusError,
  newId,
  openSubscription,
  openTopic,
  subAck,
  type ReceivedMessage,
  type Subscription,
  type Topic,
} from "@whisper/core";
import { keepSendingUpload } from "../support/http";
import { freePort } from "../support/net";
import { deferred, nextMacrotask } from "../support/wait";

/** The http driver's own guarantees, in its default "settled" mode, against live local servers. */

/** A plain server whose answers the test scripts; records each request. */
async function scriptedServer(answer: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void) {
  const seen: Array<{ url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({ url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString() });
      answer(req, res, seen.length);
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends one raw request to the test port. */
function request(
  port: number,
  path: string,
  { method = "POST", headers = {}, body }: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const fastRetry = { attempts: 4, initialDelayMs: 5, maxDelayMs: 20 };

describe("http driver", () => {
  let port = 0;
  let base = "";
  const cleanups: Array<() => Promise<unknown>> = [];
  const topic = async (url: string, options: Parameters<typeof openTopic>[1] = {}): Promise<Topic> => {
    const t = await openTopic(url, { retry: fastRetry, ...options });
    cleanups.push(() => t.close());
    return t;
  };
  const subscription = async (url: string, options: Parameters<typeof openSubscription>[1] = {}): Promise<Subscription> => {
    const s = await openSubscription(url, options);
    cleanups.push(() => s.close());
    return s;
  };
  const uniquePath = () => `/d-${newId()}`;

  beforeAll(async () => {
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });

  it("resolves a publish only once the handler acked it (the 2xx is the ack)", async () => {
    const url = base + uniquePath();
    const sub = await subscription(url);
    const t = await topic(url);
    const arrived = deferred<ReceivedMessage>();
    void sub.receive((m) => arrived.resolve(m));
    let resolved = false;
    const published = t.publish({ data: "wait for me" }).then((id) => {
      resolved = true;
      return id;
    });
    const message = await arrived.promise;
    // The handler has the message but has not settled it: the sender is still waiting.
    await nextMacrotask();
    expect(resolved).toBe(false);
    message.ack();
    expect(await published).toBe(message.id);
  });

  for (const mode of ["binary", "structured", "batch"] as const) {
    it(`a nack answers 503 and the sender's retry is the redelivery, attempt + 1 (${mode} mode)`, async () => {
      const url = base + uniquePath();
      const sub = await subscription(url);
      const t = await topic(`${url}?mode=${mode}`);
      const attempts: Array<[unknown, number]> = [];
      void sub.receive((m) => {
        attempts.push([m.data, m.deliveryAttempt]);
        if (m.data === "flaky" && m.deliveryAttempt === 1) m.nack();
        else m.ack();
      });
      // In batch mode both travel in one request: the nack of one makes the sender resend both.
      await Promise.all([t.publish({ data: "flaky" }), t.publish({ data: "fine" })]);
      expect(attempts.filter(([d]) => d === "flaky").map(([, n]) => n)).toEqual([1, 2]);
      expect(attempts.filter(([d]) => d === "fine").length).toBe(mode === "batch" ? 2 : 1);
    });
  }

  it("answers 503 with Retry-After from the nack delay", async () => {
    const p = uniquePath();
    const sub = await subscription(base + p);
    void sub.receive((m) => m.nack(2_000));
    const answer = await request(port, p, {
      headers: { "ce-specversion": "1.0", "ce-id": "n1", "ce-source": "/t", "ce-type": "t" },
    });
    expect(answer.status).toBe(503);
    expect(answer.headers["retry-after"]).toBe("2");
    expect(answer.headers["content-type"]).toBe("application/problem+json");
    expect(JSON.parse(answer.body)).toMatchObject({ status: 503 });
  });

  it("answers 503 for a message left unsettled past the ack deadline; the retry comes back as attempt 2", async () => {
    const url = base + uniquePath();
    const sub = await subscription(url, { ackDeadlineMs: 200 });
    const t = await topic(url);
    const seen: number[] = [];
    void sub.receive((m) => {
      seen.push(m.deliveryAttempt);
      if (m.deliveryAttempt > 1) m.ack(); // the first delivery is left unsettled on purpose
    });
    await t.publish({ data: "slow" });
    expect(seen).toEqual([1, 2]);
  });

  it("a batch answers 2xx only when every event was acked", async () => {
    const p = uniquePath();
    const sub = await subscription(base + p);
    void sub.receive((m) => (m.data === 2 ? m.nack() : m.ack()));
    const batch = [1, 2, 3].map((i) => createMessage({ data: i }).toJSON());
    const answer = await request(port, p, {
      headers: { "content-type": "application/cloudevents-batch+json" },
      body: JSON.stringify(batch),
    });
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body).detail).toContain(String(batch[1]!.id));
  });

  it("keeps each ordering key in order with sends one at a time per key", async () => {
    const url = base + uniquePath();
    const sub = await subscription(url, { use: [subAck()], concurrency: 8 });
    const t = await topic(url, { ordering: true });
    const got = new Map<string, number[]>();
    void sub.receive((m) => {
      const { key, i } = m.data as { key: string; i: number };
      got.set(key, [...(got.get(key) ?? []), i]);
    });
    const keys = ["a", "b", "c"];
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => keys.map((key) => t.publish({ orderingKey: key, data: { key, i } }))).flat(),
    );
    for (const key of keys) expect(got.get(key)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it("treats 429 and 5xx as retryable and succeeds once the endpoint recovers", async () => {
    const server = await scriptedServer((_req, res, n) => {
      res.writeHead(n === 1 ? 429 : n === 2 ? 502 : 204).end();
    });
    cleanups.push(server.close);
    const t = await topic(`${server.url}/hook`);
    await t.publish({ data: 1 });
    expect(server.seen.length).toBe(3);
  });

  it("when part of a batch fails for good, resolves what was acked and sends nothing twice", async () => {
    const server = await scriptedServer((_req, res, n) => {
      res.writeHead(server.seen[n - 1]!.body === "B" ? 422 : 204).end();
    });
    cleanups.push(server.close);
    const t = await topic(`${server.url}/hook?mode=binary`, { retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 2 } });
    const outcomes = await Promise.allSettled(["A", "B", "C"].map((data) => t.publish({ data })));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ status: 422, retryable: false });
    expect(server.seen.map((r) => r.body).sort()).toEqual(["A", "B", "C"]);
  });

  it("resends only the unacked messages of a batch that failed in part, each key in order", async () => {
    let failedOnce = false;
    const server = await scriptedServer((_req, res, n) => {
      const flaky = server.seen[n - 1]!.body === "k2" && !failedOnce;
      if (flaky) failedOnce = true;
      res.writeHead(flaky ? 503 : 204).end();
    });
    cleanups.push(server.close);
    const t = await topic(`${server.url}/hook`, { ordering: true, retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 2 } });
    const keyed = ["k1", "k2", "k3"].map((data) => t.publish({ orderingKey: "k", data }));
    const loose = ["u1", "u2"].map((data) => t.publish({ data }));
    await Promise.all([...keyed, ...loose]);
    const bodies = server.seen.map((r) => r.body);
    expect(bodies.filter((b) => b.startsWith("k"))).toEqual(["k1", "k2", "k2", "k3"]);
    expect(bodies.filter((b) => b.startsWith("u")).sort()).toEqual(["u1", "u2"]);
  });

  it("pauses an ordering key at a permanent failure: what was acked before stays resolved, nothing behind is sent", async () => {
    const server = await scriptedServer((_req, res, n) => {
      res.writeHead(server.seen[n - 1]!.body === "k2" ? 422 : 204).end();
    });
    cleanups.push(server.close);
    const t = await topic(`${server.url}/hook`, { ordering: true });
    const outcomes = await Promise.allSettled(["k1", "k2", "k3"].map((data) => t.publish({ orderingKey: "k", data })));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "rejected"]);
    for (const outcome of outcomes.slice(1)) {
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: ErrorCode.OrderingKeyPaused });
    }
    expect(server.seen.map((r) => r.body)).toEqual(["k1", "k2"]);
  });

  it("fails permanently on another 4xx, without retrying, carrying status and problem body", async () => {
    const problem = JSON.stringify({ title: "Unprocessable", status: 422, detail: "order id unknown" });
    const server = await scriptedServer((_req, res) => {
      res.writeHead(422, { "content-type": "application/problem+json" }).end(problem);
    });
    cleanups.push(server.close);
    const t = await topic(`${server.url}/hook`);
    const error = await t.publish({ data: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HttpStatusError);
    expect(error).toMatchObject({ code: ErrorCode.PublishFailed, status: 422, body: problem, retryable: false });
    expect(server.seen.length).toBe(1);
  });

  it("reports a path nobody listens on as ERR_NOT_FOUND and an oversized body as ERR_MESSAGE_TOO_LARGE", async () => {
    const p = uniquePath();
    await subscription(`${base}${p}?maxBodyBytes=1000`);
    const missing = await topic(`${base}/nobody-${newId()}`);
    await expect(missing.publish({ data: 1 })).rejects.toMatchObject({ code: ErrorCode.NotFound, status: 404 });
    const t = await topic(base + p);
    await expect(t.publish({ data: "x".repeat(5_000) })).rejects.toMatchObject({
      code: ErrorCode.MessageTooLarge,
      status: 413,
    });
  });

  it("answers a sender that keeps sending an oversized body 413 and closes without a reset (lingering close)", async () => {
    const p = uniquePath();
    await subscription(`${base}${p}?maxBodyBytes=1000`);
    const binaryEvent = { "content-type": "application/octet-stream", "ce-specversion": "1.0", "ce-id": "x", "ce-type": "t", "ce-source": "/s" };
    const result = await keepSendingUpload(base, p, binaryEvent, { keepSendingMs: 500, bytesPerSecond: 8 * 1024 * 1024 });
    expect(result.answer).toMatch(/^HTTP\/1\.1 413 [\s\S]*exceeds the limit of 1000 bytes/);
    expect(result.sentAfterAnswer).toBeGreaterThan(1024 * 1024);
    expect(result.error, "the connection ended without a reset").toBeUndefined();
  });

  it("reports a timeout as a retryable ERR_TIMEOUT and a refused connection as ERR_CONNECTION", async () => {
    const server = await scriptedServer(() => {
      // never answers
    });
    cleanups.push(server.close);
    const slow = await topic(`${server.url}/hook?timeoutMs=50`, { retry: { attempts: 2, initialDelayMs: 1, maxDelayMs: 1 } });
    await expect(slow.publish({ data: 1 })).rejects.toMatchObject({ code: ErrorCode.Timeout, retryable: true });
    expect(server.seen.length).toBe(2);
    const closedPort = await freePort();
    const refused = await topic(`http://127.0.0.1:${closedPort}/x`, { retry: { attempts: 2, initialDelayMs: 1, maxDelayMs: 1 } });
    await expect(refused.publish({ data: 1 })).rejects.toMatchObject({ code: ErrorCode.Connection, retryable: true });
  });

  it("sends extra headers and the URL's own query, without the driver's parameters", async () => {
    const server = await scriptedServer((_req, res) => res.writeHead(204).end());
    cleanups.push(server.close);
    const t = await topic(`${server.url}/hook?token=abc&mode=structured&timeoutMs=5000`, {
      driver: { headers: { authorization: "Bearer s3cret" } },
    });
    const id = await t.publish({ data: { ok: true } });
    const [seen] = server.seen;
    expect(seen!.url).toBe("/hook?token=abc");
    expect(seen!.headers.authorization).toBe("Bearer s3cret");
    expect(seen!.headers["content-type"]).toMatch(/^application\/cloudevents\+json/);
    expect(JSON.parse(seen!.body)).toMatchObject({ id, data: { ok: true } });
  });

  it("answers 404 for other paths, 405 for other methods, and the webhook OPTIONS handshake", async () => {
    const p = uniquePath();
    await subscription(base + p);
    const notFound = await request(port, "/elsewhere", { body: "{}" });
    expect(notFound.status).toBe(404);
    expect(notFound.headers["content-type"]).toBe("application/problem+json");
    const get = await request(port, p, { method: "GET" });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe("OPTIONS, POST");
    const options = await request(port, p, { method: "OPTIONS", headers: { "webhook-request-origin": "sender.example" } });
    expect(options.status).toBe(204);
    expect(options.headers["webhook-allowed-origin"]).toBe("sender.example");
  });

  it("shares one server between paths and stops listening when the last path closes", async () => {
    const own = await freePort();
    const a = await openSubscription(`http://127.0.0.1:${own}/a`);
    const b = await openSubscription(`http://127.0.0.1:${own}/b`);
    await a.close();
    expect((await request(own, "/a", { body: "{}" })).status).toBe(404);
    expect((await request(own, "/b", { method: "GET" })).status).toBe(405);
    await b.close();
    await expect(request(own, "/b", { method: "GET" })).rejects.toMatchObject({ code: "ECONNREFUSED" });
    // The port is free again, and a new subscription can take it.
    const again = await openSubscription(`http://127.0.0.1:${own}/a`);
    expect((await request(own, "/a", { method: "GET" })).status).toBe(405);
    await again.close();
  });

  it("splits requests between subscriptions of one name and copies them to other names", async () => {
    const url = base + uniquePath();
    const a1 = await subscription(url, { name: "a", use: [subAck()] });
    const a2 = await subscription(url, { name: "a", use: [subAck()] });
    const b = await subscription(url, { name: "b", use: [subAck()] });
    const t = await topic(url);
    const counts = { a1: 0, a2: 0, b: 0 };
    void a1.receive(() => void counts.a1++);
    void a2.receive(() => void counts.a2++);
    void b.receive(() => void counts.b++);
    await Promise.all(Array.from({ length: 50 }, (_, i) => t.publish({ data: i })));
    expect(counts.a1 + counts.a2).toBe(50);
    expect(counts.b).toBe(50);
  });

  it("rejects bad URLs and options with coded errors, and a port in use with ERR_CONNECTION", async () => {
    await expect(openSubscription(`${base}/x?bogus=1`)).rejects.toMatchObject({ code: ErrorCode.InvalidUrl });
    await expect(openSubscription(`https://127.0.0.1:${port}/x`)).rejects.toMatchObject({ code: ErrorCode.InvalidOptions });
    await expect(openTopic(`${base}/x?mode=carrier-pigeon`)).rejects.toMatchObject({ code: ErrorCode.InvalidOptions });
    await expect(openTopic(`${base}/x?timeoutMs=-1`)).rejects.toMatchObject({ code: ErrorCode.InvalidOptions });
    await expect(openTopic(`http://user:pw@127.0.0.1:${port}/x`)).rejects.toMatchObject({ code: ErrorCode.InvalidUrl });
    const blocker = net.createServer();
    const busy = await freePort();
    await new Promise<void>((resolve) => blocker.listen(busy, "127.0.0.1", resolve));
    try {
      await expect(openSubscription(`http://127.0.0.1:${busy}/x`)).rejects.toMatchObject({ code: ErrorCode.Connection });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it("in respond=received mode answers on arrival and redelivers a nack in memory", async () => {
    const url = base + uniquePath();
    const sub = await subscription(`${url}?respond=received`);
    const t = await topic(url);
    await t.publish({ data: "early" }); // resolves with nobody receiving yet
    const attempts: number[] = [];
    const done = deferred();
    void sub.receive((m) => {
      attempts.push(m.deliveryAttempt);
      if (m.deliveryAttempt === 1) m.nack();
      else {
        m.ack();
        done.resolve();
      }
    });
    await done.promise;
    expect(attempts).toEqual([1, 2]);
  });

  it("works over https with the TLS options given in code", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "whisper-https-"));
    try {
      execFileSync(
        "openssl",
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-days", "1",
          "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        { cwd: dir, stdio: "ignore" },
      );
      const key = readFileSync(path.join(dir, "key.pem"));
      const cert = readFileSync(path.join(dir, "cert.pem"));
      const url = `https://127.0.0.1:${await freePort()}/secure`;
      const sub = await subscription(url, { use: [subAck()], driver: { tls: { key, cert } } });
      const got = deferred<unknown>();
      void sub.receive((m) => got.resolve(m.data));
      const trusted = await topic(url, { driver: { tls: { ca: cert } } });
      await trusted.publish({ data: { secret: "over tls" } });
      expect(await got.promise).toEqual({ secret: "over tls" });
      // Without the CA the certificate is refused: a permanent connection error.
      const untrusted = await topic(url);
      await expect(untrusted.publish({ data: 1 })).rejects.toMatchObject({ code: ErrorCode.Connection, retryable: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers 503 to the sender of a message still held when its subscription closes", async () => {
    const url = base + uniquePath();
    const sub = await openSubscription(url, { drainTimeoutMs: 0 });
    const t = await topic(url, { retry: { attempts: 1 } });
    const arrived = deferred();
    void sub.receive(() => {
      arrived.resolve();
      return new Promise(() => {}); // never finishes
    });
    const published = t.publish({ data: "orphan" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    await arrived.promise;
    await sub.close();
    expect(await published).toMatchObject({ status: 503, retryable: true });
  });
});
