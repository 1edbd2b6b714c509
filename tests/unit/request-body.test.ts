import { describe, expect, it } from "vitest";
import { readLimited } from "@/server/http/body";

// readLimited refuses a body over its limit with a 413 at once; what the client still sends is dropped after the
// answer by the server hook (server/whisper/drivers/http/linger.ts, tests/unit/linger.test.ts).

/** A chunked upload of `chunks` chunks of `size` bytes (Infinity: never ends); `pulled()` counts the chunks read. */
function upload(chunks: number, size: number) {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller: ReadableStreamDefaultController<Uint8Array>) {
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

describe("readLimited", () => {
  it("returns a body within the limit whole", async () => {
    const { request } = upload(4, 1000);
    expect((await readLimited(request, 4000)).byteLength).toBe(4000);
  });

  it("refuses a body over the limit with a 413 as soon as the limit is passed, without reading the rest", async () => {
    const chunk = 1024;
    const { request, pulled } = upload(Infinity, chunk);
    await expect(readLimited(request, 4 * chunk)).rejects.toMatchObject({ status: 413 });
    // The chunks within the limit and the one past it; the server hook drops the rest after the answer.
    expect(pulled()).toBeLessThanOrEqual(4 + 2);
  });
});
