import http from "node:http";
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
