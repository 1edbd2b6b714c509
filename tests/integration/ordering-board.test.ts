import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMessage, PublishError } from "@whisper/core";
import { closeDb } from "@/server/db";
import { discardStalled, recordStall } from "@/server/services/ordering";
import { STALL_PREVIEW_MESSAGES, stalledMessagePage, summarizeStalled } from "@/server/services/ordering-board";
import { listAudit } from "@/server/services/audit";
import { NotFoundError } from "@/server/services/errors";
import { createTestSchema, type TestSchema } from "../support/postgres";

/**
 * What the ordering board reads (server/services/ordering-board.ts), on a real database: the summary per key
 * stays the same size whatever waits behind the key, and the messages page through every message in order.
 */

const TOPIC = "board";
let schema: TestSchema;

beforeAll(async () => {
  schema = await createTestSchema("uiops_board");
  process.env.DATABASE_URL = schema.url;
});

afterAll(async () => {
  await closeDb();
  await schema?.drop();
});

/** Stores a pause of `key` with `n` messages, as the runtime does when the core pauses the key. */
async function stall(key: string, n: number): Promise<string[]> {
  const messages = Array.from({ length: n }, (_, i) =>
    createMessage({ id: `${key}-${String(i + 1).padStart(4, "0")}`, type: "com.example.step", orderingKey: key, data: { i } }),
  );
  await recordStall(TOPIC, { orderingKey: key, error: new PublishError("broker unavailable (test)", true), pausedAt: new Date(), messages });
  return messages.map((m) => m.id);
}

async function summaryOf(key: string) {
  const { stalled } = await summarizeStalled(TOPIC);
  const entry = stalled.find((e) => e.orderingKey === key);
  expect(entry, `summary of ${key}`).toBeDefined();
  return entry!;
}

describe("the board's summary per stalled key", () => {
  it("carries counts and the first waiting messages only, the same size for 7 or 700 messages", async () => {
    const small = await stall("k-small", 7);
    const large = await stall("k-large", 700);
    const [s, l] = [await summaryOf("k-small"), await summaryOf("k-large")];
    expect([s.messageCount, s.waitingCount, l.messageCount, l.waitingCount]).toEqual([7, 7, 700, 700]);
    expect(s.messages.map((m) => m.id)).toEqual(small.slice(0, STALL_PREVIEW_MESSAGES));
    expect(l.messages.map((m) => m.id)).toEqual(large.slice(0, STALL_PREVIEW_MESSAGES));
    // The two answers differ only by their ids, keys and counts: a few bytes, not 693 messages.
    const bytes = (e: object) => Buffer.byteLength(JSON.stringify(e));
    console.log(`ordering-board summary: 7 messages ${bytes(s)} bytes, 700 messages ${bytes(l)} bytes`);
    expect(Math.abs(bytes(l) - bytes(s))).toBeLessThan(32);
    expect(bytes(l)).toBeLessThan(2048);
    expect((await summarizeStalled(TOPIC)).totalKeys).toBe(2);
  });

  it("pages every message of an entry in original order, with every status", async () => {
    const ids = await stall("k-pages", 250);
    const entry = await summaryOf("k-pages");
    const seen: string[] = [];
    let cursor: number | undefined;
    let pages = 0;
    for (;;) {
      const page = await stalledMessagePage(entry.id, { cursor, limit: 100 });
      pages++;
      seen.push(...page.items.map((m) => m.id));
      if (page.nextCursor === null) break;
      cursor = Number(page.nextCursor);
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);

    await discardStalled(entry.id, "admin:test");
    const after = await stalledMessagePage(entry.id, { limit: 500 });
    expect(new Set(after.items.map((m) => m.status))).toEqual(new Set(["discarded"]));
    expect((await summarizeStalled(TOPIC)).stalled.some((e) => e.id === entry.id)).toBe(false);
    const audit = (await listAudit({ target: entry.id })).filter((a) => a.action === "stall.discard");
    expect(audit.map((a) => a.details)).toEqual([{ topic: TOPIC, orderingKey: "k-pages", discarded: 250 }]);
  });

  it("refuses an unknown entry and a cursor it did not issue", async () => {
    await expect(stalledMessagePage("no-such-stall", { limit: 10 })).rejects.toBeInstanceOf(NotFoundError);
    const entry = await summaryOf("k-small");
    await expect(stalledMessagePage(entry.id, { cursor: 0, limit: 10 })).rejects.toThrow(/page/);
    await expect(stalledMessagePage(entry.id, { limit: 501 })).rejects.toThrow(/page/);
  });
});
