import http from "node:http";
import net from "node:net";
import { readFileSync } from "node:fs";

/**
 * Raw HTTP for the API tests, for what fetch cannot send: an endless chunked upload, repeated headers.
 */

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Reads a whole answer as text. */
export function readAnswer(res: http.IncomingMessage): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let body = "";
    res.setEncoding("utf8");
    res.on("data", (c: string) => (body += c));
    res.on("error", reject);
    res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
  });
}

/** Resident memory of a process in MiB (VmRSS from /proc). */
export function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) / 1024;
}

/**
 * POSTs `totalBytes` of 'a' as a chunked body (no Content-Length), writing only as fast as the server reads,
 * and resolves with the answer as soon as one arrives (the upload then stops). `sent` is how much was written.
 */
export function chunkedUpload(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  totalBytes: number,
): Promise<RawAnswer & { sent: number }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname,
      port: Number(url.port),
      path,
      method: "POST",
      headers: { ...headers, "transfer-encoding": "chunked" },
      agent: false,
    });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    let answered = false;
    req.on("response", (res) => {
      answered = true;
      void readAnswer(res).then((answer) => {
        resolve({ ...answer, sent });
        req.destroy();
      }, reject);
    });
    req.on("error", (error) => {
      if (!answered) reject(error);
    });
    const pump = () => {
      while (!answered && sent < totalBytes) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once("drain", pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}

/** A request with headers given as [name, value] pairs, repeats kept (fetch would join them). */
export function rawRequest(
  baseUrl: string,
  { method = "GET", path, headers, body }: { method?: string; path: string; headers: Array<[string, string]>; body?: string | Buffer },
): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    // An array of headers is sent as given: Node adds no Host header of its own then.
    const flat = ["host", url.host, ...headers.flat()];
    if (body !== undefined) flat.push("content-length", String(Buffer.byteLength(body)));
    const req = http.request({ host: url.hostname, port: Number(url.port), path, method, headers: flat, agent: false }, (res) => {
      void readAnswer(res).then(resolve, reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * A client that does not stop sending when it is answered: over a raw socket it POSTs a chunked body of 'a' at
 * about `bytesPerSecond` (never faster than the server reads) until `keepSendingMs` after the first byte of the
 * answer (Infinity: until the server closes), then ends the body and its side of the connection, and waits for
 * the server to close it. Resolves with the answer (head and body as text) and what was sent after it; a reset
 * (ECONNRESET, EPIPE) is reported in `error`, not thrown, so a test can assert there was none.
 */
export function keepSendingUpload(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  { keepSendingMs, bytesPerSecond }: { keepSendingMs: number; bytesPerSecond: number },
): Promise<{ answer: string; sentAfterAnswer: number; error?: string }> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    // Half-open allowed: like an HTTP client mid-upload, it goes on sending after the server ended its side.
    const socket = net.connect({ host: url.hostname, port: Number(url.port), allowHalfOpen: true });
    const head = [`POST ${path} HTTP/1.1`, `host: ${url.host}`, "transfer-encoding: chunked"];
    for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]);
    let answer = "";
    let answeredAt: number | undefined;
    let sentAfterAnswer = 0;
    let error: string | undefined;
    let ended = false;
    const pump = setInterval(() => {
      if (ended || socket.destroyed) return;
      if (answeredAt !== undefined && Date.now() - answeredAt >= keepSendingMs) {
        ended = true;
        socket.end("0\r\n\r\n");
        return;
      }
      for (let i = 0; i < Math.max(1, Math.round(bytesPerSecond / 100 / chunk.length)) && !socket.writableNeedDrain; i++) {
        socket.write(frame);
        if (answeredAt !== undefined) sentAfterAnswer += chunk.length;
      }
    }, 10);
    socket.write(`${head.join("\r\n")}\r\n\r\n`);
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => {
      answeredAt ??= Date.now();
      answer += text;
    });
    socket.on("error", (e: Error & { code?: string }) => (error = e.code ?? e.message));
    socket.on("close", () => {
      clearInterval(pump);
      resolve({ answer, sentAfterAnswer, error });
    });
  });
}
