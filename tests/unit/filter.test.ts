import { describe, expect, it } from "vitest";
import { parseFilter, type FilterTerm } from "@/server/contract/filter";
import { filterPredicate, resolvePath, type FilterCandidate } from "@/server/contract/filter-match";
import { FilterAst, filterInput } from "@/server/contract/filter-schema";

function terms(text: string): FilterTerm[] {
  const parsed = parseFilter(text);
  if (!parsed.ok) throw new Error(`${text}: ${parsed.error} at ${parsed.offset}`);
  return parsed.filter.terms;
}

function failure(text: string): { error: string; offset: number } {
  const parsed = parseFilter(text);
  if (parsed.ok) throw new Error(`${text} parsed: ${JSON.stringify(parsed.filter)}`);
  return { error: parsed.error, offset: parsed.offset };
}

describe("parseFilter", () => {
  it("reads the documented example into one term per comparison", () => {
    expect(terms('type = order.* source = /shop and data.customer = "c-42" data.total > 100 "out of stock"')).toEqual([
      { kind: "attribute", field: "type", op: "=", value: "order.", prefix: true },
      { kind: "attribute", field: "source", op: "=", value: "/shop", prefix: false },
      { kind: "data", path: ["customer"], op: "=", value: "c-42", prefix: false },
      { kind: "dataNumber", path: ["total"], op: ">", value: 100 },
      { kind: "text", value: "out of stock" },
    ]);
  });

  it("needs no spaces around operators and reads every value kind", () => {
    expect(terms("key!=k1 seq>=12 data.ok=true data.gone=null data.n<=-2.5e1 data.s=abc data.p=c-4* subject=\"a*\"")).toEqual([
      { kind: "attribute", field: "key", op: "!=", value: "k1", prefix: false },
      { kind: "sequence", op: ">=", value: "12" },
      { kind: "data", path: ["ok"], op: "=", value: true, prefix: false },
      { kind: "data", path: ["gone"], op: "=", value: null, prefix: false },
      { kind: "dataNumber", path: ["n"], op: "<=", value: -25 },
      { kind: "data", path: ["s"], op: "=", value: "abc", prefix: false },
      { kind: "data", path: ["p"], op: "=", value: "c-4", prefix: true },
      { kind: "attribute", field: "subject", op: "=", value: "a*", prefix: false },
    ]);
  });

  it("reads data paths with indexes and quoted keys, and data-like words as values", () => {
    expect(terms('data["odd key"].items[2].sku == "A-1" subject = data.csv data = 5')).toEqual([
      { kind: "data", path: ["odd key", "items", 2, "sku"], op: "=", value: "A-1", prefix: false },
      { kind: "attribute", field: "subject", op: "=", value: "data.csv", prefix: false },
      { kind: "data", path: [], op: "=", value: 5, prefix: false },
    ]);
    expect(terms("database timeout!")).toEqual([
      { kind: "text", value: "database" },
      { kind: "text", value: "timeout!" },
    ]);
  });

  it("is empty for blank text", () => {
    expect(terms("   ")).toEqual([]);
  });

  it.each([
    ["type = order.* or type = x", /"or" is not supported/, 15],
    ["colour = red", /unknown field "colour"/, 0],
    ["type > x", /type takes = or !=/, 5],
    ["type = a*b", /only at the end/, 8],
    ["type = *", /at least one character/, 7],
    ["seq = 12a", /whole number/, 6],
    ["seq = 99999999999999999999", /whole number/, 6],
    ["data.total > big", /compares numbers/, 13],
    ['data.x = "open', /does not end/, 9],
    ["= 5", /needs a field/, 0],
    ["type =", /needs a value/, 6],
    ["data.x", /needs an operator/, 0],
    ["data.", /a name must follow/, 5],
    ["data[x] = 1", /takes an index/, 4],
    ["id = abc*", /id matches exactly/, 5],
  ])("refuses %j, saying where", (text, message, offset) => {
    const { error, offset: at } = failure(text);
    expect(error).toMatch(message);
    expect(at).toBe(offset);
  });

  it("bounds the size of what it accepts", () => {
    expect(failure(Array.from({ length: 13 }, (_, i) => `t${i}`).join(" ")).error).toMatch(/at most 12 terms/);
    expect(failure(`data${".a".repeat(11)} = 1`).error).toMatch(/at most 10 steps/);
    expect(failure("x".repeat(1001)).error).toMatch(/longer than 1000/);
  });
});

describe("filterInput (the API boundary)", () => {
  it("turns text into a checked syntax tree and syntax errors into issues naming the character", () => {
    expect(filterInput.parse("data.total > 1")).toEqual({ terms: [{ kind: "dataNumber", path: ["total"], op: ">", value: 1 }] });
    const result = filterInput.safeParse("type > x");
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe("type takes = or != (with value* for a prefix), not > (at character 6)");
  });

  it("refuses trees the parser would never produce", () => {
    expect(FilterAst.safeParse({ terms: [{ kind: "data", path: ["a"], op: "=", value: 1, prefix: true }] }).success).toBe(false);
    expect(FilterAst.safeParse({ terms: [{ kind: "sequence", op: "=", value: "1; DROP TABLE messages" }] }).success).toBe(false);
    expect(FilterAst.safeParse({ terms: [{ kind: "attribute", field: "data_text", op: "=", value: "x", prefix: false }] }).success).toBe(false);
  });
});

describe("filterPredicate", () => {
  const base: FilterCandidate = {
    topic: "shop.orders",
    id: "m-1",
    type: "order.created",
    source: "/shop",
    subject: null,
    orderingKey: "c-42",
    replayOf: null,
    sequence: "17",
    dataText: JSON.stringify({ customer: "c-42", total: 120.5, items: [{ sku: "A-1" }], note: "Out of Stock", flag: null }),
  };
  const matches = (text: string, candidate: Partial<FilterCandidate> = {}) =>
    filterPredicate({ terms: terms(text) })({ ...base, ...candidate });

  it("compares attributes exactly or by prefix; != matches absent attributes", () => {
    expect(matches("type = order.created topic = shop.*")).toBe(true);
    expect(matches("type = order")).toBe(false);
    expect(matches("type = order.*")).toBe(true);
    expect(matches("subject != x")).toBe(true);
    expect(matches("subject = x")).toBe(false);
    expect(matches("key != c-4*")).toBe(false);
  });

  it("compares broker sequences as whole numbers", () => {
    expect(matches("seq > 9")).toBe(true);
    expect(matches("seq = 17 seq <= 17 seq >= 17")).toBe(true);
    expect(matches("seq < 17")).toBe(false);
    expect(matches("seq = 1", { sequence: null })).toBe(false);
    expect(matches("seq != 1", { sequence: null })).toBe(true);
  });

  it("reads JSON data by path, compares scalars exactly and numbers by value", () => {
    expect(matches('data.customer = "c-42" data.total > 100 data.total <= 120.5 data.items[0].sku = A-1 data.flag = null')).toBe(true);
    expect(matches("data.customer = c-4*")).toBe(true);
    expect(matches("data.total = 120.50")).toBe(true);
    expect(matches('data.total = "120.5"')).toBe(false);
    expect(matches("data.missing = null")).toBe(false);
    expect(matches("data.missing != 1 data.customer != c-43")).toBe(true);
    expect(matches("data.customer > 1")).toBe(false);
    expect(matches("data.items = A-1")).toBe(false);
  });

  it("searches text ignoring case; data it cannot read matches no data term", () => {
    expect(matches("stock of out")).toBe(true); // three words, each somewhere in the data
    expect(matches('"stock of out"')).toBe(false);
    expect(matches('"out of stock"')).toBe(true);
    expect(matches("stock", { dataText: "plain text STOCK" })).toBe(true);
    expect(matches("data.customer != x", { dataText: "not json" })).toBe(true);
    expect(matches("data.customer = c-42", { dataText: undefined })).toBe(false);
    expect(matches("data.customer != x", { dataText: undefined })).toBe(false);
    expect(matches("stock", { dataText: null })).toBe(false);
  });
});

describe("resolvePath", () => {
  it("steps through objects by key and arrays by index, as PostgreSQL's #> does", () => {
    const value = { a: [10, { "0": "zero" }], "1": "one" };
    expect(resolvePath(value, ["a", 0])).toBe(10);
    expect(resolvePath(value, ["a", "1", 0])).toBe("zero");
    expect(resolvePath(value, [1])).toBe("one");
    expect(resolvePath(value, ["a", "x"])).toBeUndefined();
    expect(resolvePath(value, ["a", 5])).toBeUndefined();
    expect(resolvePath("text", ["a"])).toBeUndefined();
  });
});
