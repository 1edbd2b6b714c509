import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { lingerOnUnreadBody, type LingerBounds } from "@/server/whisper/drivers/http/linger";
import { keepSendingUpload } from "../support/http";

/**
 * A server answering like a route that refuses a body too large: it reads the first chunk through a web stream
 * (as Next hands a route the body), stops reading, and answers 413 without cancelling the stream. With `bounds`,
 * every request gets lingerOnUnreadBody; without, Node's own handling shows what the lingering close prevents.
 * `serverSocketClosed` resolves with how many bytes the server's socket read once it closed.
 */
async function refusingServer(bounds?: LingerBounds) {
  let socketClosed!: (bytesRead: number) => void;
  const serverSocketClosed = new Promise<number>((resolve) => (socketClosed = resolve));
  const url = await serve((req, res) => {
    if (bounds) lingerOnUnreadBody(req, res, bounds);
    req.socket.once("close", () => socketClosed(req.socket.bytesRead));
    const reader = (Readable.toWeb(req) as ReadableStream<Uint8Array>).getReader();
    void reader.read().then(() => {
      reader.releaseLock();
      res.writeHead(413, { "content-type": "text/plain", "content-length": "9" }).end("too large");
    });
  });
  return { url, serverSocketClosed };
}

/** Serves `handler` on a free 127.0.0.1 port until the test ends; resolves with its base URL. */
async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  // No time limit of Node's own: only the lingering close's bounds end a connection here.
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const GENEROUS: LingerBounds = { unreadLingerMs: 30_000, unreadLingerBytes: 1024 * 1024 * 1024 };
const STEADY = { keepSendingMs: 300, bytesPerSecond: 8 * 1024 * 1024 };

describe("lingerOnUnreadBody", () => {
  for (const connection of ["keep-alive", "close"]) {
    it(`lets a client that keeps sending after the answer read it and finish without a reset (connection: ${connection})`, async () => {
      const { url, serverSocketClosed } = await refusingServer(GENEROUS);
      const result = await keepSendingUpload(url, "/", { connection }, STEADY);
      expect(result.answer).toMatch(/^HTTP\/1\.1 413 [\s\S]*\r\n\r\ntoo large$/);
      expect(result.sentAfterAnswer).toBeGreaterThan(512 * 1024);
      expect(result.error).toBeUndefined();
      expect(await serverSocketClosed, "the server read the whole body").toBeGreaterThan(result.sentAfterAnswer);
    });
  }

  it("is what keeps that client from a reset: without it, Node resets the connection it closes with unread data", async () => {
    const { url } = await refusingServer();
    const result = await keepSendingUpload(url, "/", { connection: "close" }, STEADY);
    expect(result.error).toMatch(/^(ECONNRESET|EPIPE)$/);
  });

  it("closes the connection of a client that never stops, after unreadLingerMs", async () => {
    const { url, serverSocketClosed } = await refusingServer({ unreadLingerMs: 200, unreadLingerBytes: GENEROUS.unreadLingerBytes });
    const result = await keepSendingUpload(url, "/", {}, { keepSendingMs: Infinity, bytesPerSecond: 1024 * 1024 });
    expect(result.answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(await serverSocketClosed).toBeGreaterThan(0);
  });

  it("closes the connection of a client that never stops, once unreadLingerBytes more arrived", async () => {
    const bounds = { unreadLingerMs: GENEROUS.unreadLingerMs, unreadLingerBytes: 2 * 1024 * 1024 };
    const { url, serverSocketClosed } = await refusingServer(bounds);
    const result = await keepSendingUpload(url, "/", {}, { keepSendingMs: Infinity, bytesPerSecond: 64 * 1024 * 1024 });
    expect(result.sentAfterAnswer).toBeGreaterThan(bounds.unreadLingerBytes);
    expect(await serverSocketClosed).toBeGreaterThan(bounds.unreadLingerBytes);
  });

  it("leaves a request read to its end alone: the kept-alive connection serves the next one", async () => {
    const url = await serve((req, res) => {
      lingerOnUnreadBody(req, res, GENEROUS);
      req.resume();
      req.on("end", () => res.end("ok"));
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    for (let i = 0; i < 3; i++) {
      const text = await new Promise<string>((resolve, reject) => {
        const req = http.request(url, { method: "POST", agent }, (res) => {
          sockets.add(res.socket);
          let body = "";
          res.setEncoding("utf8").on("data", (c: string) => (body += c)).on("end", () => resolve(body));
        });
        req.on("error", reject);
        req.end("x".repeat(100_000));
      });
      expect(text).toBe("ok");
    }
    agent.destroy();
    expect(sockets.size).toBe(1);
  });
});
