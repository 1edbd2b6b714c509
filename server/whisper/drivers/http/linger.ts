import type http from "node:http";
import { defaults } from "../../defaults.js";

/** How long, and for how many more bytes, an unread body is read and dropped after its answer. */
export interface LingerBounds {
  unreadLingerMs: number;
  unreadLingerBytes: number;
}

/**
 * Lingering close for answers sent before their request body arrived in full (a 413 for an oversized body,
 * or any route that answers without reading it). Closing a socket with unread data makes TCP send a reset,
 * and a client still writing its body then fails (EPIPE, ECONNRESET) before it reads the answer waiting for it.
 *
 * lingerOnUnreadBody(req, res), called for every request by the HTTP driver's listener (and exported for other
 * Node HTTP servers, such as the dashboard's), promises:
 * - when `res` finishes and `req` is not complete, the rest of the body is read and dropped, never buffered;
 * - where Node would close the connection after this answer, it only half-closes it (FIN after the answer)
 *   and destroys the socket once the body ended or the client closed its side; on a kept-alive connection the
 *   socket serves the next request once the body ended;
 * - bounded: after `bounds.unreadLingerMs`, or once `unreadLingerBytes` more arrived, the socket is destroyed
 *   whatever the client does, so a sender cannot keep the server reading;
 * - it does nothing to a request that was read to its end.
 */
export function lingerOnUnreadBody(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  bounds: LingerBounds = defaults.http,
): void {
  // Before Node's own 'finish' listener, which destroys the socket as soon as the answer is flushed
  // (destroySoon) when the connection is not kept alive: end our side only. The rest of the body is dropped
  // once that listener ran (it may dump the request itself, removing every 'data' listener).
  res.prependOnceListener("finish", () => {
    if (req.complete || req.socket.destroyed) return;
    req.socket.destroySoon = () => req.socket.end();
    process.nextTick(dropRest, req, bounds);
  });
}

/** Reads and drops the rest of `req`'s body within `bounds`, then closes the socket if its side was ended. */
function dropRest(req: http.IncomingMessage, bounds: LingerBounds): void {
  const socket = req.socket;
  const started = Date.now();
  const readAtStart = socket.bytesRead;
  // Whatever the route fed the body into is done with it. A 'data' listener keeps the request flowing:
  // resume() alone is undone when the last 'readable' listener goes (a web stream over the request has one).
  req.unpipe();
  req.removeAllListeners("data");
  req.removeAllListeners("readable");
  req.on("data", () => {});
  const bound = setInterval(() => {
    const over = Date.now() - started >= bounds.unreadLingerMs || socket.bytesRead - readAtStart > bounds.unreadLingerBytes;
    if (over) socket.destroy();
  }, 50);
  bound.unref();
  const ended = () => {
    clearInterval(bound);
    if (socket.writableEnded) socket.destroy();
  };
  socket.once("close", () => clearInterval(bound));
  if (req.readableEnded) ended();
  else req.once("end", ended);
}
