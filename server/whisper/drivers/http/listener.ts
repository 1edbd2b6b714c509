import http from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import { ConnectionError, InvalidMessageError } from "../../errors.js";
import type { Message } from "../../message.js";
import { fromBatch, fromBinary, fromStructured, isBatch, isStructured } from "../../wire.js";
import { lingerOnUnreadBody } from "./linger.js";
import { httpDefaults, requestPath, type SubscriptionSettings } from "./options.js";
import { Group, Tracker, type Member, type Outcome } from "./receiver.js";

/**
 * One node:http(s) server per bound address, shared by every subscription of the process on that address,
 * each path a route with its groups. Contract: the server listens while at least one subscription (or an
 * open in progress) holds it and is closed when the last one leaves; a route exists exactly while it has a
 * group; requests to other paths get 404.
 */
class SharedServer {
  readonly routes = new Map<string, Map<string, Group>>();
  refs = 0;
  ready: Promise<void>;
  closing: Promise<void> | undefined;
  readonly server: http.Server;

  constructor(
    readonly key: string,
    settings: SubscriptionSettings,
  ) {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      handleRequest(this, req, res).catch((error) => {
        // Anything not anticipated is a bug of ours, not of the sender: 500, and the server carries on.
        if (!res.headersSent) problem(res, 500, `internal error: ${(error as Error)?.message ?? error}`);
        else res.destroy();
      });
    };
    this.server = settings.secure ? https.createServer(settings.tls ?? {}, handler) : http.createServer(handler);
    this.server.on("clientError", onClientError);
    this.ready = new Promise<void>((resolve, reject) => {
      const onError = (cause: Error) => {
        reject(new ConnectionError(`cannot listen on ${key}: ${cause.message}`, { cause }));
      };
      this.server.once("error", onError);
      this.server.listen({ host: settings.host, port: settings.port }, () => {
        this.server.off("error", onError);
        resolve();
      });
    });
  }

  /** Groups on a path, or undefined if nobody listens there. */
  route(path: string): Map<string, Group> | undefined {
    return this.routes.get(path);
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const grace = setTimeout(() => this.server.closeAllConnections(), httpDefaults.closeGraceMs);
      grace.unref();
      this.server.close(() => {
        clearTimeout(grace);
        resolve();
      });
      this.server.closeIdleConnections();
    });
    return this.closing;
  }
}

const servers = new Map<string, SharedServer>();

function serverKey(settings: SubscriptionSettings): string {
  const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
  return `${settings.secure ? "https" : "http"}://${host}:${settings.port}`;
}

/** A subscription's place on a shared server; leave() undoes join(). */
export interface Membership {
  readonly group: Group;
  leave(): Promise<void>;
}

/**
 * Joins group `name` on the path of `settings`, starting the shared server for the address if needed.
 * Throws ConnectionError when the address cannot be bound.
 */
export async function join(
  settings: SubscriptionSettings,
  name: string,
  member: Member,
  ackDeadlineMs: number,
): Promise<Membership> {
  const key = serverKey(settings);
  let shared: SharedServer;
  for (;;) {
    const existing = servers.get(key);
    if (existing?.closing) {
      await existing.closing;
      continue;
    }
    shared = existing ?? new SharedServer(key, settings);
    if (!existing) servers.set(key, shared);
    break;
  }
  shared.refs++;
  try {
    await shared.ready;
  } catch (error) {
    shared.refs--;
    if (servers.get(key) === shared) servers.delete(key);
    throw error;
  }
  let groups = shared.routes.get(settings.path);
  if (!groups) shared.routes.set(settings.path, (groups = new Map()));
  let group = groups.get(name);
  if (!group) groups.set(name, (group = new Group(name, ackDeadlineMs, settings.maxQueued, settings.maxBodyBytes, settings.respond)));
  group.members.add(member);
  const joined = group;
  let left = false;
  return {
    group: joined,
    async leave() {
      if (left) return;
      left = true;
      joined.members.delete(member);
      if (joined.members.size === 0) {
        if (groups.get(name) === joined) groups.delete(name);
        if (groups.size === 0 && shared.routes.get(settings.path) === groups) shared.routes.delete(settings.path);
        joined.dispose();
      }
      if (--shared.refs === 0) {
        await shared.close();
        if (servers.get(key) === shared) servers.delete(key);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Requests

/** An error a request is answered with: the status and what to tell the sender. */
class Rejection {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {}
}

async function handleRequest(shared: SharedServer, req: http.IncomingMessage, res: http.ServerResponse) {
  lingerOnUnreadBody(req, res);
  const path = requestPath(req.url ?? "/");
  const groups = path === undefined ? undefined : shared.route(path);
  if (!groups || groups.size === 0) {
    return reject(req, res, new Rejection(404, `nobody listens on ${JSON.stringify(path ?? req.url)} here`));
  }
  if (req.method === "OPTIONS") {
    // CloudEvents webhook abuse protection handshake: allow any origin that asks.
    const origin = req.headers["webhook-request-origin"];
    res.writeHead(204, { allow: "OPTIONS, POST", ...(origin ? { "webhook-allowed-origin": String(origin) } : {}) });
    return void res.end();
  }
  if (req.method !== "POST") {
    return reject(req, res, new Rejection(405, `method ${req.method} not allowed; send CloudEvents with POST`, { allow: "OPTIONS, POST" }));
  }
  let maxBodyBytes = 0;
  for (const group of groups.values()) maxBodyBytes = Math.max(maxBodyBytes, group.maxBodyBytes);

  const parse = classify(req);
  if (parse instanceof Rejection) return reject(req, res, parse);
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > maxBodyBytes) {
    return reject(req, res, tooLarge(maxBodyBytes), true);
  }
  const body = await readBody(req, maxBodyBytes);
  if (body === "aborted") return;
  if (body === "too large") return reject(req, res, tooLarge(maxBodyBytes), true);

  let messages: Message[];
  try {
    messages = parse(body);
  } catch (error) {
    if (error instanceof InvalidMessageError) return reject(req, res, new Rejection(400, error.message));
    throw error;
  }
  if (messages.length === 0) return void res.writeHead(204).end();

  // Route again: the groups may have changed while the body arrived.
  const current = shared.route(path!);
  if (!current || current.size === 0) return reject(req, res, new Rejection(404, `nobody listens on ${JSON.stringify(path)} any more`));
  for (const group of current.values()) {
    if (!group.hasRoom(messages.length)) {
      return reject(
        req,
        res,
        new Rejection(503, `subscription ${group.name} holds ${group.unsettled} unsettled messages (limit ${group.maxQueued}); retry later`, {
          "retry-after": "1",
        }),
      );
    }
  }
  const tracker = new Tracker();
  let deadlineMs = 0;
  for (const group of current.values()) {
    for (const message of messages) group.enqueue(message, tracker);
    deadlineMs = Math.max(deadlineMs, group.ackDeadlineMs);
  }
  tracker.arm(deadlineMs);
  res.on("close", () => {
    if (!res.writableFinished) tracker.expire(deadlineMs);
  });
  for (const group of current.values()) group.wakeAll();
  answer(res, await tracker.outcome);
}

type Parser = (body: Buffer) => Message[];

/** Picks the decoder from the headers: binary (ce-specversion), structured, or batch; else 415. */
function classify(req: http.IncomingMessage): Parser | Rejection {
  if (req.headers["ce-specversion"] !== undefined) {
    const seen = new Set<string>();
    const entries: Array<[string, string]> = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!.toLowerCase();
      if (!name.startsWith("ce-") && name !== "content-type") continue;
      if (seen.has(name)) return new Rejection(400, `header ${name} appears more than once`);
      seen.add(name);
      entries.push([name, utf8HeaderValue(req.rawHeaders[i + 1]!)]);
    }
    return (body) => [fromBinary(entries, body.byteLength > 0 ? new Uint8Array(body) : undefined)];
  }
  const contentType = req.headers["content-type"];
  if (isStructured(contentType)) return (body) => [fromStructured(new Uint8Array(body))];
  if (isBatch(contentType)) return (body) => fromBatch(new Uint8Array(body));
  return new Rejection(
    415,
    `not a CloudEvent: expected ce- headers (binary mode) or content type application/cloudevents+json or application/cloudevents-batch+json, got ${contentType === undefined ? "no content type" : JSON.stringify(contentType)}`,
  );
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * node:http reads header bytes as Latin-1. The binding wants non-ASCII percent-encoded, but some senders
 * (the cloudevents SDK among them) put raw UTF-8 in headers: such bytes are read as UTF-8 when they are valid
 * UTF-8, and kept as Latin-1 otherwise.
 */
function utf8HeaderValue(value: string): string {
  if (!/[\x80-\xff]/.test(value)) return value;
  try {
    return strictUtf8.decode(Buffer.from(value, "latin1"));
  } catch {
    return value;
  }
}

/** The body, or "too large" past the limit (the rest is discarded), or "aborted" if the client went away. */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | "too large" | "aborted"> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        req.resume();
        return resolve("too large");
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks, size)));
    req.on("error", () => resolve("aborted"));
    req.on("close", () => {
      if (!req.complete) resolve("aborted");
    });
  });
}

function tooLarge(limit: number): Rejection {
  return new Rejection(413, `request body exceeds the limit of ${limit} bytes`);
}

/**
 * Answers with a problem. `closeAfter`: the request body was not (fully) read, so the connection cannot be
 * reused; the rest of the body is discarded, and the connection closed once it ended or the lingering close's
 * bounds passed (lingerOnUnreadBody).
 */
function reject(req: http.IncomingMessage, res: http.ServerResponse, rejection: Rejection, closeAfter = false): void {
  const headers = { ...rejection.headers };
  if (closeAfter || !req.complete) {
    headers.connection = "close";
    req.resume();
  }
  problem(res, rejection.status, rejection.detail, headers);
}

function answer(res: http.ServerResponse, outcome: Outcome): void {
  if (res.destroyed || res.writableEnded) return;
  switch (outcome.kind) {
    case "acked":
      res.writeHead(204).end();
      return;
    case "nacked":
      return problem(res, 503, `not acknowledged by the subscriber: ${outcome.ids.join(", ")}`, {
        "retry-after": String(Math.ceil(outcome.retryAfterMs / 1000)),
      });
    case "expired":
      return problem(res, 503, `not settled within the ack deadline of ${outcome.deadlineMs} ms: ${outcome.ids.join(", ")}`, {
        "retry-after": "0",
      });
  }
}

const PROBLEM_TYPE = "application/problem+json";

function problemBody(status: number, detail: string): string {
  return JSON.stringify({ type: "about:blank", title: http.STATUS_CODES[status] ?? "Error", status, detail });
}

/** Writes an RFC 9457 problem answer. */
function problem(res: http.ServerResponse, status: number, detail: string, headers: Record<string, string> = {}): void {
  const body = problemBody(status, detail);
  res.writeHead(status, { ...headers, "content-type": PROBLEM_TYPE, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** Requests node:http cannot parse (bad framing, oversized headers): a problem answer, then the socket closes. */
function onClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
  const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
  const detail = `malformed HTTP request: ${error.code ?? error.message}`;
  // A request whose headers were parsed has a response object: answer through it unless it already started.
  const current = (socket as Duplex & { _httpMessage?: unknown })._httpMessage;
  if (current instanceof http.ServerResponse) {
    if (current.headersSent) return void socket.destroy();
    current.on("finish", () => socket.end());
    return problem(current, status, detail, { connection: "close" });
  }
  const body = problemBody(status, detail);
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
