import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMessage, newId } from "@whisper/core";
import { closeDb, db } from "@/server/db";
import { messageRow, type MessageRow } from "@/server/history/rows";
import { insertBatch } from "@/server/history/writer";
import { browseMessages, getMessage } from "@/server/services/messages";
import { InvalidInputError } from "@/server/services/errors";
import { deleteTopic, listTopics, registerSubscription, upsertTopic } from "@/server/services/topics";
import { listAudit } from "@/server/services/audit";
import type { BrowseFilter, MessageSummary } from "@/server/services/types";
import { createTestSchema, type TestSchema } from "../support/postgres";

let schema: TestSchema;
const T1 = "orders";
const T2 = "payments";
const BASE = Date.parse("2026-01-01T00:00:00.000Z");
let all: MessageRow[] = [];

async function insert(rows: MessageRow[]): Promise<void> {
  const client = await db().pool.connect();
  try {
    await insertBatch(client, rows, "copy");
  } finally {
    client.release();
  }
}

/** Every page of a browse, following nextCursor; `between` runs after each page. */
async function browseAll(filter: BrowseFilter, between?: () => Promise<void>): Promise<MessageSummary[]> {
  const out: MessageSummary[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await browseMessages({ ...filter, cursor });
    out.push(...page.items);
    if (!page.nextCursor) return out;
    cursor = page.nextCursor;
    await between?.();
  }
}

/** The expected order: arrival (insert) order, newest first; neither received_at nor id decides. */
function newestFirst(rows: MessageRow[]): string[] {
  return rows.map((r) => r.id).reverse();
}

beforeAll(async () => {
  schema = await createTestSchema("t_browse");
  process.env.DATABASE_URL = schema.url;
  // 240 messages over two topics; three share each received_at and their ids sort against arrival order,
  // so only the ingest sequence can give the expected order.
  for (let i = 0; i < 240; i++) {
    const m = createMessage({
      id: `m-${String(1000 - i).padStart(4, "0")}-${newId()}`,
      source: i % 3 === 0 ? "/svc/a" : "/svc/b",
      type: i % 4 === 0 ? "order.created" : "order.updated",
      subject: i % 5 === 0 ? `customer-${i % 2}` : undefined,
      orderingKey: i % 6 === 0 ? `key-${i % 12}` : undefined,
      data: i % 7 === 0 ? { note: `Needle_${i} 100%` } : { note: `hay ${i}` },
    });
    all.push(messageRow(m, i % 2 === 0 ? T1 : T2, new Date(BASE + Math.floor(i / 3) * 1000)));
  }
  await insert(all);
});

afterAll(async () => {
  await closeDb();
  await schema?.drop();
});

describe("browseMessages", () => {
  it("pages through everything newest first with no gaps or repeats", async () => {
    const items = await browseAll({ limit: 7 });
    expect(items.map((m) => m.id)).toEqual(newestFirst(all));
  });

  it("applies each filter, alone and combined", async () => {
    const cases: Array<[BrowseFilter, (r: MessageRow) => boolean]> = [
      [{ topic: T1 }, (r) => r.topic === T1],
      [{ type: "order.created" }, (r) => r.type === "order.created"],
      [{ source: "/svc/a" }, (r) => r.source === "/svc/a"],
      [{ subject: "customer-1" }, (r) => r.subject === "customer-1"],
      [{ orderingKey: "key-6" }, (r) => r.orderingKey === "key-6"],
      [
        { from: new Date(BASE + 10_000).toISOString(), to: new Date(BASE + 20_000).toISOString() },
        (r) => r.receivedAt.getTime() >= BASE + 10_000 && r.receivedAt.getTime() < BASE + 20_000,
      ],
      // q is a case-insensitive substring; % and _ are literal characters, not wildcards.
      [{ q: "needle_" }, (r) => (r.dataText ?? "").toLowerCase().includes("needle_")],
      [{ q: "0%" }, (r) => (r.dataText ?? "").includes("0%")],
      [
        { topic: T2, type: "order.updated", source: "/svc/b", q: "hay" },
        (r) => r.topic === T2 && r.type === "order.updated" && r.source === "/svc/b" && (r.dataText ?? "").includes("hay"),
      ],
    ];
    for (const [filter, keep] of cases) {
      const expected = newestFirst(all.filter(keep));
      expect(expected.length, JSON.stringify(filter)).toBeGreaterThan(0);
      expect((await browseAll({ ...filter, limit: 9 })).map((m) => m.id), JSON.stringify(filter)).toEqual(expected);
    }
  });

  it("treats empty query-string values as absent and numeric strings as limits", async () => {
    const page = await browseMessages({ topic: "", type: "", limit: "5" as unknown as number });
    expect(page.items).toHaveLength(5);
  });

  it("stays stable while new messages are recorded between pages", async () => {
    const before = newestFirst(all.filter((r) => r.topic === T1));
    const added: MessageRow[] = [];
    const seen = await browseAll({ topic: T1, limit: 11 }, async () => {
      // Newer messages arrive between page requests (as the recorder writes).
      const batch = Array.from({ length: 5 }, () =>
        messageRow(createMessage({ type: "order.created", data: { late: true } }), T1, new Date()),
      );
      added.push(...batch);
      await insert(batch);
    });
    expect(seen.map((m) => m.id)).toEqual(before);
    all = [...all, ...added];
    // A fresh browse sees the new ones first.
    const first = await browseMessages({ topic: T1, limit: added.length });
    expect(new Set(first.items.map((m) => m.id))).toEqual(new Set(added.map((r) => r.id)));
  });

  it("rejects bad input with InvalidInputError", async () => {
    await expect(browseMessages({ cursor: "not-a-cursor" })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(browseMessages({ limit: 0 })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(browseMessages({ limit: 201 })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(browseMessages({ from: "yesterday" })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(browseMessages({ bogus: 1 } as BrowseFilter)).rejects.toMatchObject({ status: 400 });
  });

  it("returns null for an unknown message", async () => {
    expect(await getMessage("no-such-id")).toBeNull();
  });
});

describe("topics", () => {
  it("lists managed topics with counts, subscriptions and a 30-minute sparkline; deletes with an audit entry", async () => {
    await upsertTopic({ name: T1, url: `eventbus:${T1}`, ordering: true, actor: "tester" });
    await upsertTopic({ name: T2, url: `eventbus:${T2}`, ordering: false });
    await registerSubscription(T1, "whisper-recorder", `eventbus:${T1}`);
    const fresh = Array.from({ length: 3 }, () => messageRow(createMessage({ type: "now" }), T2, new Date()));
    await insert(fresh);
    all.push(...fresh);

    const topics = await listTopics();
    const byName = new Map(topics.map((t) => [t.name, t]));
    const t1 = byName.get(T1)!;
    const t2 = byName.get(T2)!;
    expect(t1).toMatchObject({
      url: `eventbus:${T1}`,
      ordering: true,
      messageCount: all.filter((r) => r.topic === T1).length,
      subscriptions: ["whisper-recorder"],
      pausedKeys: 0,
      failing: false,
    });
    expect(t2.messageCount).toBe(all.filter((r) => r.topic === T2).length);
    expect(t2.sparkline).toHaveLength(30);
    expect(t2.sparkline[29]! + t2.sparkline[28]!).toBeGreaterThanOrEqual(3);
    expect(t2.ratePerMinute).toBeGreaterThanOrEqual(3);
    expect(t2.lastMessageAt).not.toBeNull();

    await expect(upsertTopic({ name: "bad name!", url: "eventbus:x", ordering: false })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    expect(await deleteTopic(T2, "tester")).toBe(true);
    expect(await deleteTopic(T2, "tester")).toBe(false);
    expect((await listTopics()).map((t) => t.name)).toEqual([T1]);
    // History stays after the topic is deleted.
    expect((await browseMessages({ topic: T2, limit: 1 })).items).toHaveLength(1);
    const audit = await listAudit();
    expect(audit.map((a) => [a.action, a.target])).toEqual([
      ["topic.delete", T2],
      ["topic.create", T1],
    ]);
  });
});
