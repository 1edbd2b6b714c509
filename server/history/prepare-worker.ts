import { parentPort } from "node:worker_threads";
import { prepareBatch, unpackItems, type PackedItems } from "./prepare";

/**
 * The recorder's worker thread (preparer.ts): decodes batches of deliveries and builds their rows' COPY text
 * (prepare.ts), so the thread holding the broker connection only receives, writes and acks. Stateless: a
 * request is { id, topic, packed }, the answer { id, text (UTF-8 bytes, transferred), summaries, escaped } or
 * { id, error }; { ready: true } once loaded.
 */
const encoder = new TextEncoder();

parentPort?.on("message", (request: { id: number; topic: string; packed: PackedItems }) => {
  try {
    const prepared = prepareBatch(request.topic, unpackItems(request.packed));
    const text = typeof prepared.text === "string" ? encoder.encode(prepared.text) : prepared.text;
    parentPort!.postMessage({ id: request.id, ...prepared, text }, [text.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort!.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
});
parentPort?.postMessage({ ready: true });
