import { describe, expect, it } from "vitest";
import { createMessage, type EncodedMessage, type Message } from "@whisper/core";
import { encode } from "@/server/whisper/drivers/nats/codec";
import { prepareBatch, type PrepareItem } from "@/server/history/prepare";
import { Preparer } from "@/server/history/preparer";

/**
 * The recorder's preparer: a batch prepared in the worker thread is exactly what preparing it in the recorder's
 * thread gives (COPY text, summaries, escaped rows), for NATS-encoded deliveries and decoded ones alike; and a
 * batch the worker cannot take is prepared in this thread and reported, never lost.
 */

const AT = Date.parse("2026-12-03T10:00:00Z");

function natsItem(message: Message, sequence: number): PrepareItem {
  const e = encode(message, 1 << 20, { msgId: true });
  const headers = (e.headers as unknown as { encode(): Uint8Array }).encode();
  const encoded: EncodedMessage = { format: "nats", subject: "orders.created", headers, data: e.body, server: "nats://127.0.0.1:4222", stream: "ORDERS", sequence };
  return { encoded, receivedAt: AT + sequence, sequence };
}

function messageItem(message: Message, sequence: number): PrepareItem {
  return { encoded: { format: "message", message }, receivedAt: AT + sequence, sequence: null };
}

async function untilReady(preparer: Preparer, items: PrepareItem[]) {
  for (let i = 0; i < 200; i++) {
    const prepared = await preparer.prepare("orders", items);
    if (prepared.inWorker) return prepared;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the worker never prepared a batch");
}

const text = (t: string | Uint8Array) => (typeof t === "string" ? t : Buffer.from(t).toString("utf8"));

describe("Preparer", () => {
  it("prepares in the worker exactly what this thread prepares", async () => {
    const items = [
      natsItem(createMessage({ type: "order.created", orderingKey: "k1", data: { n: 1, note: "tab\there, back\\slash" } }), 1),
      natsItem(createMessage({ type: "bin", data: new Uint8Array([0, 1, 255]) }), 2),
      natsItem(createMessage({ type: "bad\u0000type", data: "text" }), 3),
      messageItem(createMessage({ type: "in.process", extensions: { flag: true, n: 3 }, data: "ünïcode" }), 4),
    ];
    const errors: unknown[] = [];
    const preparer = new Preparer({ threads: true, report: (e) => errors.push(e) });
    try {
      const inWorker = await untilReady(preparer, items);
      const here = prepareBatch("orders", items);
      expect(text(inWorker.text)).toBe(text(here.text));
      expect(JSON.parse(inWorker.summaries)).toEqual(JSON.parse(here.summaries));
      expect(inWorker.escaped).toEqual(here.escaped);
      expect(here.escaped.map((e) => e.changes)).toEqual([["type: NUL escaped as \\u0000"]]);
      expect(errors).toEqual([]);
    } finally {
      await preparer.close();
    }
  });

  it("prepares a batch the worker cannot take in this thread, and reports it", async () => {
    const ok = [natsItem(createMessage({ data: { n: 1 } }), 1)];
    const errors: unknown[] = [];
    const preparer = new Preparer({ threads: true, report: (e) => errors.push(e) });
    try {
      await untilReady(preparer, ok);
      // A message whose data cannot be posted to another thread (a function inside).
      const odd = createMessage({ data: { n: 2 } });
      const unpostable = Object.assign(Object.create(Object.getPrototypeOf(odd)), odd, { data: { f: () => 1 } }) as Message;
      const items = [...ok, messageItem(unpostable, 2)];
      const prepared = await preparer.prepare("orders", items);
      expect(prepared.inWorker).toBeFalsy();
      expect(text(prepared.text)).toBe(text(prepareBatch("orders", items).text));
      expect(errors).toHaveLength(1);
    } finally {
      await preparer.close();
    }
  });
});
