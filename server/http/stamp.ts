import http from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import { lingerOnUnreadBody } from "@whisper/core";
import { AppError } from "../errors";
import { PROBLEM_CONTENT_TYPE, problemBody } from "./problem";

/**
 * Facts about a request that only the HTTP server knows, handed to route handlers as request headers that
 * clients cannot forge. A route handler sees a fetch Request: no socket, and repeated headers already joined
 * with ", " (`ce-id: a` twice reads as "a, a"). installRequestStamp(), called once per process from
 * instrumentation.ts, hooks the Node server so every incoming request first
 * - loses every `x-whisper-*` header the client sent;
 * - gets PEER_HEADER = the socket's remote address (the client, or the reverse proxy in front of us);
 * - gets REPEATED_HEADER = the names (lower-case, comma-separated) of single-valued headers it carried more
 *   than once: every `ce-*`, content-type, content-length, authorization, origin.
 * It also answers requests Node cannot parse with problem+json (answerClientError), and gives every answer sent
 * before its request body arrived in full a lingering close (lingerOnUnreadBody, from the core).
 * Without the hook (e.g. a route called in a unit test) the headers are absent: readers treat the peer as
 * unknown and nothing as repeated.
 */

export const PEER_HEADER = "x-whisper-peer";
export const REPEATED_HEADER = "x-whisper-repeated";

const SINGLE = new Set(["content-type", "content-length", "authorization", "origin"]);

export function stamp(req: http.IncomingMessage): void {
  for (const name of Object.keys(req.headers)) if (name.startsWith("x-whisper-")) delete req.headers[name];
  req.headers[PEER_HEADER] = req.socket?.remoteAddress ?? "unknown";
  const seen = new Set<string>();
  const repeated = new Set<string>();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!name.startsWith("ce-") && !SINGLE.has(name)) continue;
    if (seen.has(name)) repeated.add(name);
    seen.add(name);
  }
  if (repeated.size > 0) req.headers[REPEATED_HEADER] = [...repeated].join(",");
}

/**
 * A request Node could not parse (bad framing, headers too large) gets a problem+json answer like every other
 * bad request, instead of Node's bare status line; servers with their own clientError listener keep it.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const writable = socket.writable && !(socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (!writable) {
    socket.destroy(error);
    return;
  }
  const problem = problemBody(
    new AppError(
      error.code === "HPE_HEADER_OVERFLOW" ? "header_fields_too_large" : "malformed_request",
      `the request could not be parsed as HTTP/1.1 (${error.code ?? error.message})`,
    ),
  );
  const body = JSON.stringify(problem);
  socket.end(
    `HTTP/1.1 ${problem.status} ${problem.title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const INSTALLED = Symbol.for("whisper.requestStamp");

/** Hooks every http/https server of the process (idempotent). */
export function installRequestStamp(): void {
  for (const proto of [http.Server.prototype, https.Server.prototype] as Array<http.Server & { [INSTALLED]?: true }>) {
    if (proto[INSTALLED]) continue;
    const emit = proto.emit as (this: http.Server, event: string | symbol, ...args: unknown[]) => boolean;
    proto.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]): boolean {
      if (event === "request") {
        stamp(args[0] as http.IncomingMessage);
        lingerOnUnreadBody(args[0] as http.IncomingMessage, args[1] as http.ServerResponse);
      }
      if (event === "clientError" && this.listenerCount("clientError") === 0) {
        answerClientError(args[0] as Error & { code?: string }, args[1] as Duplex);
        return true;
      }
      return emit.call(this, event, ...args);
    } as typeof proto.emit;
    proto[INSTALLED] = true;
  }
}

/** Names of the request's repeated single-valued headers (empty without the hook). */
export function repeatedHeaders(request: Request): string[] {
  const value = request.headers.get(REPEATED_HEADER);
  return value ? value.split(",") : [];
}

/** The socket address of the request's sender, or "unknown" without the hook. */
export function peerAddress(request: Request): string {
  return request.headers.get(PEER_HEADER) ?? "unknown";
}

/**
 * The client's address: the peer, unless the peer is one of `trustedProxies`, then the right-most
 * X-Forwarded-For entry that is not a trusted proxy (entries left of it are the client's own claims).
 */
export function clientAddress(request: Request, trustedProxies: readonly string[]): string {
  const peer = peerAddress(request);
  if (!trustedProxies.includes(peer)) return peer;
  const forwarded = (request.headers.get("x-forwarded-for") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  for (let i = forwarded.length - 1; i >= 0; i--) {
    if (!trustedProxies.includes(forwarded[i]!)) return forwarded[i]!;
  }
  return peer;
}
