import type { LiveFilter, LiveFrame, LiveHub } from "./hub";

/**
 * A Server-Sent Events response fed by the hub. Contract: sends the comment `: connected` at once (so the
 * client sees the stream open), then `event: frame` with a LiveFrame as JSON data, and `: ping` every
 * `pingMs`; unsubscribes when the request aborts or the client cancels. Frames are dropped (and counted by
 * the hub) while the stream's queue already holds more than `highWaterFrames` unread frames. With `status`,
 * `event: status` carries its JSON at once and every `statusMs` (the topic's recording state, so a client can
 * tell "no traffic" from "history is behind").
 */
export function liveResponse(
  hub: LiveHub,
  options: {
    filter: LiveFilter;
    maxPerFrame: number;
    signal: AbortSignal;
    pingMs?: number;
    highWaterFrames?: number;
    status?: () => unknown;
    statusMs?: number;
  },
): Response {
  const { filter, maxPerFrame, signal, pingMs = 15_000, highWaterFrames = 8, status, statusMs = 2_000 } = options;
  const encoder = new TextEncoder();
  let cleanup = () => {};
  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        let closed = false;
        const write = (text: string) => controller.enqueue(encoder.encode(text));
        const unsubscribe = hub.subscribe({
          filter,
          maxPerFrame,
          send(frame: LiveFrame) {
            if (closed || (controller.desiredSize ?? 0) <= 0) return false;
            write(`event: frame\ndata: ${JSON.stringify(frame)}\n\n`);
            return true;
          },
        });
        const ping = setInterval(() => {
          if (!closed && (controller.desiredSize ?? 0) > 0) write(": ping\n\n");
        }, pingMs);
        ping.unref();
        const sendStatus = () => {
          if (status && !closed && (controller.desiredSize ?? 0) > 0) write(`event: status\ndata: ${JSON.stringify(status() ?? null)}\n\n`);
        };
        const statusTimer = status ? setInterval(sendStatus, statusMs) : undefined;
        statusTimer?.unref();
        cleanup = () => {
          if (closed) return;
          closed = true;
          clearInterval(ping);
          clearInterval(statusTimer);
          unsubscribe();
          try {
            controller.close();
          } catch {
            // Already closed by the client.
          }
        };
        if (signal.aborted) return cleanup();
        signal.addEventListener("abort", () => cleanup(), { once: true });
        write(": connected\n\n");
        sendStatus();
      },
      cancel() {
        cleanup();
      },
    },
    new CountQueuingStrategy({ highWaterMark: highWaterFrames }),
  );
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    },
  });
}
