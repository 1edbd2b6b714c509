import type { LiveFilter, LiveFrame, LiveHub } from "./hub";

/**
 * A Server-Sent Events response fed by the hub. Contract: sends the comment `: connected` at once (so the
 * client sees the stream open), then `event: frame` with a LiveFrame as JSON data, and `: ping` every
 * `pingMs`; unsubscribes when the request aborts or the client cancels. Frames are dropped (and counted by
 * the hub) while the stream's queue already holds more than `highWaterFrames` unread frames.
 */
export function liveResponse(
  hub: LiveHub,
  options: { filter: LiveFilter; maxPerFrame: number; signal: AbortSignal; pingMs?: number; highWaterFrames?: number },
): Response {
  const { filter, maxPerFrame, signal, pingMs = 15_000, highWaterFrames = 8 } = options;
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
        cleanup = () => {
          if (closed) return;
          closed = true;
          clearInterval(ping);
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
