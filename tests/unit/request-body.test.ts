import { afterEach, describe, expect, it, vi } from "vitest";
import { readLimited } from "@/server/http/body";
import { httpDefaults } from "@/server/http/defaults";

// readLimited refuses a body over its limit with a 413 only after reading (and dropping) what the client is still
// sending, within a bound of bytes and time: a connection closed with unread data is reset, and the answer lost.

/** A chunked upload of `chunks` chunks of `size` bytes (Infinity: never ends); `pulled()` counts the chunks read. */
function upload(chunks: number, size: number, { stallAfter }: { stallAfter?: number } = {}) {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller: ReadableStreamDefaultController<Uint8Array>) {
        if (stallAfter !== undefined && pulled >= stallAfter) return new Promise<void>(() => {});
        if (pulled >= chunks) return controller.close();
        pulled++;
        controller.enqueue(new Uint8Array(size));
      },
    },
    { highWaterMark: 0 },
  );
  const request = new Request("http://127.0.0.1/upload", { method: "POST", body, duplex: "half" } as RequestInit);
  return { request, pulled: () => pulled };
}

afterEach(() => vi.useRealTimers());

describe("readLimited", () => {
  it("returns a body within the limit whole", async () => {
    const { request } = upload(4, 1000);
    expect((await readLimited(request, 4000)).byteLength).toBe(4000);
  });

  it("reads the rest of a body over the limit before refusing it with a 413", async () => {
    const { request, pulled } = upload(40, 1024);
    await expect(readLimited(request, 4 * 1024)).rejects.toMatchObject({ status: 413 });
    expect(pulled()).toBe(40);
  });

  it("drops at most tooLargeDrainBytes of a body that never ends", async () => {
    const chunk = 1024 * 1024;
    const { request, pulled } = upload(Infinity, chunk);
    await expect(readLimited(request, chunk)).rejects.toMatchObject({ status: 413 });
    // The chunk over the limit, then the bound (the chunk the stream holds ready is not counted as read here).
    expect(pulled()).toBeLessThanOrEqual(2 + httpDefaults.body.tooLargeDrainBytes / chunk + 1);
    expect(pulled()).toBeGreaterThanOrEqual(1 + httpDefaults.body.tooLargeDrainBytes / chunk);
  });

  it("answers after tooLargeDrainMs when the client stops sending halfway", async () => {
    vi.useFakeTimers();
    const { request } = upload(Infinity, 1024, { stallAfter: 8 });
    let settled: unknown;
    const reading = readLimited(request, 4 * 1024).catch((error: unknown) => (settled = error));
    await vi.advanceTimersByTimeAsync(httpDefaults.body.tooLargeDrainMs - 1);
    expect(settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await reading;
    expect(settled).toMatchObject({ status: 413 });
  });
});
