import { describe, expect, it } from "vitest";
import { createMessage } from "@whisper/core";
import { storableForm, storableIdSchema, storableLimits, storableProblems, storableValue } from "@/server/history/storable";
import { messageRow } from "@/server/history/rows";

/** The inverse of storableValue's escaping (for the test: the escaping must be reversible). */
function unescape(value: string): string {
  return value.replace(/\\\\|\\u([0-9a-f]{4})/g, (m, hex: string | undefined) => (hex ? String.fromCharCode(parseInt(hex, 16)) : "\\"));
}

describe("what history can store", () => {
  it("lists every problem of a message by field: NUL, unpaired surrogates, keys over the limit", () => {
    const message = createMessage({
      id: "i".repeat(storableLimits.maxKeyBytes + 1),
      type: "ok",
      source: "/a\u0000b",
      subject: "lone \ud800",
      orderingKey: "€".repeat(342), // 1,026 bytes
      extensions: { tenant: "x\u0000", n: 5, flag: true, emoji: "😀 pairs are fine" },
      data: "text \udc00",
      datacontenttype: "text/plain",
    });
    expect(storableProblems(message).map((p) => `${p.field}:${p.code}`).sort()).toEqual(
      ["data:unpaired-surrogate", "id:too-long", "orderingkey:too-long", "source:nul", "subject:unpaired-surrogate", "tenant:nul"].sort(),
    );
    expect(storableProblems(createMessage({ id: "i".repeat(storableLimits.maxKeyBytes), data: "NUL \u0000 in data is fine" }))).toEqual([]);
  });

  it("escapes reversibly, and shortens over-long keys deterministically to the limit", () => {
    for (const value of ["a\u0000b", "back\\slash and \u0000", "\ud800\udc00 pair, lone \ud800 and \udfff"]) {
      const { value: stored, codes } = storableValue("subject", value);
      expect(codes.length).toBeGreaterThan(0);
      expect(stored).not.toMatch(/\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
      expect(unescape(stored)).toBe(value);
    }
    const long = `${"€".repeat(400)}\u0000`;
    const a = storableValue("id", long);
    expect(a.codes).toEqual(["nul", "too-long"]);
    expect(Buffer.byteLength(a.value)).toBeLessThanOrEqual(storableLimits.maxKeyBytes);
    expect(a.value).toMatch(/…sha256:[0-9a-f]{64}$/);
    expect(storableValue("id", long).value).toBe(a.value);
    expect(storableValue("id", `${"€".repeat(400)}\u0001`).value).not.toBe(a.value);
    expect(storableValue("source", "x".repeat(5000)).value).toHaveLength(5000); // not a key: no limit
  });

  it("builds the row of a message it had to change with recorderror saying what changed", () => {
    const message = createMessage({ id: "id\u0000", type: "t", orderingKey: "k\u0000", extensions: { replayof: "r\u0000" }, data: { a: 1 } });
    const row = messageRow(message, "topic", new Date(0));
    expect(row.id).toBe("id\\u0000");
    expect(row.orderingKey).toBe("k\\u0000");
    expect(row.replayOf).toBe("r\\u0000");
    expect(row.extensions.recorderror).toBe(
      "stored with changes: id: NUL escaped as \\u0000; replayof: NUL escaped as \\u0000; orderingkey: NUL escaped as \\u0000",
    );
    expect(row.changes).toHaveLength(3);
    const clean = createMessage({ type: "t", data: { a: 1 } });
    const form = storableForm(clean);
    expect(form.changes).toEqual([]);
    expect(form.extensions).toBe(clean.extensions);
  });

  it("takes as a message id exactly what the events route accepts", () => {
    expect(storableIdSchema.safeParse("€".repeat(341)).success).toBe(true); // 1,023 bytes
    expect(storableIdSchema.safeParse("€".repeat(342)).success).toBe(false); // 1,026 bytes
    expect(storableIdSchema.safeParse("a\u0000").success).toBe(false);
    expect(storableIdSchema.safeParse("").success).toBe(false);
  });
});
