import { describe, expect, it } from "vitest";
import { createMessage, newId } from "@whisper/core";
import { messageRow, type MessageRow } from "@/server/history/rows";
import { insertBatch } from "@/server/history/writer";
import { browseWindow } from "@/server/history/browse";
import { parseFilter, type Filter } from "@/server/contract/filter";
import { filterPredicate, type FilterCandidate } from "@/server/contract/filter-match";
import { browseMessages, encodeCursor } from "@/server/services/messages";
import { InvalidInputError, NotFoundError } from "@/server/services/errors";
import type { BrowseFilter } from "@/server/services/types";
import { historyDatabase } from "../support/postgres";

// The filter language against PostgreSQL: every filter must select, in SQL, exactly the rows the shared evaluator
// (filterPredicate, which the live tail uses in the browser) selects in memory, in arrival order; pages stay
// bounded (a scan limit, then the GIN index or a partial page); time bounds and start positions are exact.

const database = historyDatabase("uihist_search");
const BASE = Date.parse("2026-03-01T00:00:00.000Z");
const rows: MessageRow[] = [];

function filterOf(text: string): Filter {
  const parsed = parseFilter(text);
  if (!parsed.ok) throw new Error(`${text}: ${parsed.error}`);
  return parsed.filter;
}

function candidate(r: MessageRow): FilterCandidate {
  return { ...r, dataText: r.dataText };
}

/** Data of row i: JSON objects of several shapes, a top-level array, JSON jsonb refuses, text, bytes, none. */
function dataOf(i: number): { data?: unknown; datacontenttype?: string } {
  switch (i % 10) {
    case 7:
      return { data: "plain text, Customer c-42 wrote", datacontenttype: "text/plain" };
    case 8:
      return { data: i % 20 === 8 ? new Uint8Array([0, 1, 2, i % 256]) : undefined, datacontenttype: "application/octet-stream" };
    case 9:
      return { data: i % 20 === 9 ? '{"bad":"\\u0000"}' : `[${i % 3}, 2, 3]`, datacontenttype: "application/json" };
    default:
      return {
        data: {
          customer: `c-${i % 13}`,
          total: (i * 37) % 250,
          paid: i % 4 === 0,
          status: i % 5 === 0 ? null : ["new", "paid", "shipped"][i % 3],
          items: [{ sku: `A-${i % 6}`, qty: i % 3 }],
          address: { city: i % 2 === 0 ? "Lyon" : "Oslo", "zip code": `${69000 + (i % 4)}` },
          note: i % 11 === 0 ? "Rush ORDER please" : "standard",
        },
        datacontenttype: "application/json",
      };
  }
}

async function record(batch: MessageRow[]): Promise<void> {
  const client = await database.pool.connect();
  try {
    await insertBatch(client, batch, "copy");
  } finally {
    client.release();
  }
  rows.push(...batch);
}

async function seed(): Promise<void> {
  if (rows.length > 0) return;
  const batch: MessageRow[] = [];
  for (let i = 0; i < 400; i++) {
    const m = createMessage({
      id: `s-${String(i).padStart(4, "0")}-${newId()}`,
      source: i % 3 === 0 ? "/shop/web" : i % 3 === 1 ? "/shop/app" : "/warehouse",
      type: ["order.created", "order.paid", "payment.failed", "order.created.v2"][i % 4]!,
      subject: i % 5 === 0 ? undefined : `order-${i % 17}`,
      orderingKey: i % 6 === 0 ? undefined : `c-${i % 13}`,
      ...dataOf(i),
    });
    batch.push(messageRow(m, i % 2 === 0 ? "shop.orders" : "shop.payments", new Date(BASE + i * 1000), i % 7 === 0 ? null : 1000 + i));
  }
  await record(batch);
}

/** Every page of a browse through the service (as the API), following nextCursor. */
async function browseAll(filter: BrowseFilter): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 500; pages++) {
    const page = await browseMessages({ ...filter, cursor });
    out.push(...page.items.map((m) => m.id));
    if (!page.nextCursor) return out;
    cursor = page.nextCursor;
  }
  throw new Error("more than 500 pages");
}

const newestFirst = (selected: MessageRow[]) => selected.map((r) => r.id).reverse();

describe("the filter language in SQL", () => {
  const FILTERS = [
    "type = order.*",
    "type = order.created",
    "type != order.* source = /shop*",
    "source = /warehouse subject = order-1*",
    "subject != order-3",
    "key = c-1*",
    "key != c-12",
    "topic = shop.pay*",
    "seq > 1300",
    "seq <= 1010 seq != 1003",
    'data.customer = "c-4"',
    "data.customer = c-1*",
    "data.customer != c-4",
    "data.total >= 200",
    "data.total < 10 data.paid = true",
    "data.status = null",
    "data.status != null",
    "data.items[0].sku = A-3",
    'data.address["zip code"] = "69002" data.address.city = Lyon',
    "data = 2",
    "data[0] = 1",
    "data.bad = x",
    "rush",
    '"Customer c-42"',
    "c-42",
    "data.total > 100 type = order.paid key != c-3 standard",
  ];

  it.each(FILTERS)("%s selects the rows the shared evaluator selects, newest first", async (text) => {
    await seed();
    const keep = filterPredicate(filterOf(text));
    const expected = newestFirst(rows.filter((r) => keep(candidate(r))));
    expect(await browseAll({ filter: text, limit: 7 })).toEqual(expected);
  });

  it("finds rows with every filter but two, so the comparison means something", async () => {
    await seed();
    const empty = FILTERS.filter((text) => !rows.some((r) => filterPredicate(filterOf(text))(candidate(r))));
    // data = 2: the top-level arrays [n, 2, 3] contain 2 (jsonb's @> would say so) but are not equal to it.
    expect(empty).toEqual(["data = 2", "data.bad = x"]);
  });

  it("keeps data that jsonb refuses: the row is recorded, its data_json is null", async () => {
    await seed();
    const { rows: refused } = await database.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM messages WHERE data_text LIKE '{"bad"%' AND data_json IS NULL`,
    );
    expect(Number(refused[0]!.n)).toBe(rows.filter((r) => r.dataText?.startsWith('{"bad"')).length);
    expect(Number(refused[0]!.n)).toBeGreaterThan(0);
  });

  it("combines the single-field parameters (with the * prefix rule) with the filter", async () => {
    await seed();
    const keep = filterPredicate(filterOf("type = order.* source = /shop/web data.total > 50"));
    const expected = newestFirst(rows.filter((r) => keep(candidate(r))));
    expect(await browseAll({ type: "order.*", source: "/shop/web", filter: "data.total > 50", limit: 9 })).toEqual(expected);
  });

  it("refuses a bad filter with the character where it is", async () => {
    await expect(browseMessages({ filter: "type > 3" })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(browseMessages({ filter: "type > 3" })).rejects.toThrow(/at character 6/);
    await expect(browseMessages({ atSequence: "5" })).rejects.toThrow(/atSequence needs a topic/);
    await expect(browseMessages({ cursor: encodeCursor(5n), after: encodeCursor(9n) })).rejects.toThrow(/at most one of/);
    await expect(browseMessages({ atId: "no-such-message" })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("bounded pages", () => {
  it("ends a page early after the scan bound and continues below it, without missing a row", async () => {
    await seed();
    const filter = filterOf("data.total > 240");
    const expected = newestFirst(rows.filter((r) => filterPredicate(filter)(candidate(r))));
    const seen: string[] = [];
    let before: bigint | undefined;
    let partial = 0;
    for (;;) {
      const page = await browseWindow(database.pool, { filter, limit: 5, before, scanRows: 20 });
      seen.push(...page.rows.map((r) => r.id));
      if (page.searchedTo !== null) {
        partial++;
        expect(page.rows.length).toBeLessThan(5);
        expect(page.next).not.toBeNull();
      }
      if (page.next === null) break;
      before = page.next;
    }
    expect(seen).toEqual(expected);
    expect(partial).toBeGreaterThan(0);
  });

  it("answers data.path = value from the GIN index, exactly, however rare the value", async () => {
    await seed();
    const filter = filterOf('data.customer = "c-5" data.paid = true');
    const expected = newestFirst(rows.filter((r) => filterPredicate(filter)(candidate(r))));
    expect(expected.length).toBeGreaterThan(3);
    // A scan bound of 1 row: only the GIN index can give a full page.
    const page = await browseWindow(database.pool, { filter, limit: 3, scanRows: 1 });
    expect(page.searchedTo).toBeNull();
    expect(page.rows.map((r) => r.id)).toEqual(expected.slice(0, 3));
    const rest = await browseWindow(database.pool, { filter, limit: 100, scanRows: 1, before: page.next! });
    expect(rest.rows.map((r) => r.id)).toEqual(expected.slice(3));
    expect(rest.next).toBeNull();
  });

  it("scans in order instead when the GIN index proposes more candidates than it may, even if none match", async () => {
    await seed();
    // data.paid = true selects a quarter of the JSON rows: over a cap of 5 candidates.
    const filter = filterOf("data.paid = true data.total > 1000");
    expect(rows.some((r) => filterPredicate(filter)(candidate(r)))).toBe(false);
    const page = await browseWindow(database.pool, { filter, limit: 3, scanRows: 10, ginCandidates: 5 });
    expect(page.rows).toEqual([]);
    expect(page.searchedTo).not.toBeNull();
    expect(page.next).not.toBeNull();
    const common = filterOf("data.paid = true");
    const expected = newestFirst(rows.filter((r) => filterPredicate(common)(candidate(r))));
    const first = await browseWindow(database.pool, { filter: common, limit: 3, scanRows: 50, ginCandidates: 5 });
    expect(first.rows.map((r) => r.id)).toEqual(expected.slice(0, 3));
  });

  it("with a data.path = value term, probes, asks the GIN index, then scans on; pages stay bounded and complete", async () => {
    await seed();
    for (const text of ['data.customer = "c-5" data.paid = true', "data.paid = true", 'data.customer = "c-7"']) {
      const filter = filterOf(text);
      const expected = newestFirst(rows.filter((r) => filterPredicate(filter)(candidate(r))));
      const seen: string[] = [];
      let before: bigint | undefined;
      for (let pages = 0; ; pages++) {
        expect(pages, text).toBeLessThan(100);
        // A GIN cap of 1 candidate: every page past the probe is scanned (300 rows at most).
        const page = await browseWindow(database.pool, { filter, limit: 4, before, scanRows: 300, ginCandidates: 1 });
        seen.push(...page.rows.map((r) => r.id));
        if (page.next === null) break;
        before = page.next;
      }
      expect(seen, text).toEqual(expected);
    }
  });

  it("serves prefixes from the text_pattern_ops indexes and data.path = value from the GIN index", async () => {
    await seed();
    const plan = async (where: string, params: unknown[]) => {
      const client = await database.pool.connect();
      try {
        // The table is small: forbid sequential scans, so the plan shows which index can serve the condition.
        await client.query("BEGIN");
        await client.query("SET LOCAL enable_seqscan = off");
        const { rows: lines } = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN SELECT id FROM messages WHERE ${where}`, params);
        await client.query("ROLLBACK");
        return lines.map((l) => l["QUERY PLAN"]).join("\n");
      } finally {
        client.release();
      }
    };
    expect(await plan("topic = $1 AND type LIKE $2", ["shop.orders", "order.%"])).toMatch(/messages_topic_type_seq_idx[\s\S]*~>=~/);
    expect(await plan("topic = $1 AND ordering_key LIKE $2", ["shop.orders", "c-1%"])).toMatch(/messages_topic_key_seq_idx/);
    expect(await plan("topic = $1 AND left(source, 200) LIKE $2", ["shop.orders", "/shop%"])).toMatch(/messages_topic_source_seq_idx/);
    expect(await plan("topic = $1 AND left(subject, 200) LIKE $2", ["shop.orders", "order-1%"])).toMatch(/messages_topic_subject_seq_idx/);
    expect(await plan("data_json @> $1::jsonb", ['{"customer":"c-5"}'])).toMatch(/messages_data_json_idx/);
    expect(await plan("topic = $1 AND sequence <= $2", ["shop.orders", 1200])).toMatch(/messages_topic_sequence_idx/);
  });
});

describe("time bounds, start positions and newer rows", () => {
  const at = (i: number) => new Date(BASE + i * 1000).toISOString();

  it("applies from ≤ received_at < to exactly, on one topic and across topics", async () => {
    await seed();
    const inRange = (r: MessageRow) => r.receivedAt.getTime() >= BASE + 100_000 && r.receivedAt.getTime() < BASE + 130_000;
    expect(await browseAll({ from: at(100), to: at(130), limit: 4 })).toEqual(newestFirst(rows.filter(inRange)));
    expect(await browseAll({ topic: "shop.orders", from: at(100), to: at(130), filter: "data.total > 10", limit: 4 })).toEqual(
      newestFirst(rows.filter((r) => inRange(r) && r.topic === "shop.orders" && filterPredicate(filterOf("data.total > 10"))(candidate(r)))),
    );
  });

  it("starts at a time, a broker sequence or a message, and lists older rows from there", async () => {
    await seed();
    const orders = rows.filter((r) => r.topic === "shop.orders");
    const first = async (filter: BrowseFilter) => (await browseMessages({ topic: "shop.orders", limit: 3, ...filter })).items.map((m) => m.id);
    const upTo = (keep: (r: MessageRow) => boolean) => newestFirst(orders.filter(keep)).slice(0, 3);
    expect(await first({ atTime: at(250) })).toEqual(upTo((r) => r.receivedAt.getTime() <= BASE + 250_000));
    expect(await first({ atSequence: "1251" })).toEqual(upTo((r) => rows.indexOf(r) <= rows.indexOf(orders.find((o) => o.sequence === "1250")!)));
    const target = orders[120]!;
    expect(await first({ atId: target.id })).toEqual(upTo((r) => rows.indexOf(r) <= rows.indexOf(target)));
  });

  it("answers with the rows recorded after a view through newerCursor", async () => {
    await seed();
    const view = await browseMessages({ topic: "shop.payments", filter: "data.total > 100", limit: 5 });
    expect(view.newerCursor).not.toBeNull();
    expect((await browseMessages({ topic: "shop.payments", filter: "data.total > 100", after: view.newerCursor! })).items).toEqual([]);
    const later = Array.from({ length: 6 }, (_, i) =>
      messageRow(createMessage({ type: "order.late", data: { total: 150 + i } }), "shop.payments", new Date(BASE + 500_000 + i)),
    );
    await record(later);
    const newer = await browseMessages({ topic: "shop.payments", filter: "data.total > 100", after: view.newerCursor!, limit: 4 });
    expect(newer.items.map((m) => m.id)).toEqual(later.slice(0, 4).map((r) => r.id).reverse());
    const rest = await browseMessages({ topic: "shop.payments", filter: "data.total > 100", after: newer.nextCursor!, limit: 4 });
    expect(rest.items.map((m) => m.id)).toEqual(later.slice(4).map((r) => r.id).reverse());
    expect(rest.nextCursor).toBeNull();
  });
});
