import { describe, expect, it } from "vitest";
import { parseJump, parseView, viewQuery, writeView, type HistoryView } from "@/components/topic/history-view-state";

// The history view in the URL: what a shared link or Back restores must be exactly what was shown.

const NOW = Date.parse("2026-12-03T12:00:00.000Z");

describe("the history view in the URL", () => {
  it("writes and reads back every part of a view", () => {
    const views: HistoryView[] = [
      { filter: 'data.customer = "c-42" type = order.*', range: { kind: "preset", preset: "1h" }, start: null, selected: "m-1", panel: "publish" },
      { filter: "", range: { kind: "custom", from: "2026-12-01T00:00:00.000Z", to: "2026-12-02T00:00:00.000Z" }, start: { kind: "sequence", at: "1234" }, selected: null, panel: null },
      { filter: "x", range: { kind: "all" }, start: { kind: "time", at: "2026-12-03T11:00:00.000Z" }, selected: "id with spaces & ?", panel: "none" },
      { filter: "", range: { kind: "all" }, start: { kind: "id", at: "m:2" }, selected: null, panel: null },
    ];
    for (const view of views) expect(parseView(new URLSearchParams(writeView(view)))).toEqual(view);
    expect(writeView({ filter: "  ", range: { kind: "all" }, start: null, selected: null, panel: null })).toBe("");
  });

  it("ignores what it does not understand instead of failing", () => {
    expect(parseView(new URLSearchParams("range=7y&at=noon&panel=sideways&from=x"))).toEqual({
      filter: "",
      range: { kind: "all" },
      start: null,
      selected: null,
      panel: null,
    });
  });

  it("turns a view into the API query, presets counted back from when the view was opened", () => {
    const view = parseView(new URLSearchParams("q=data.total%20%3E%20100&range=15m&at=seq:77"));
    expect(viewQuery(view, "orders", NOW)).toEqual({
      topic: "orders",
      filter: "data.total > 100",
      from: "2026-12-03T11:45:00.000Z",
      atSequence: "77",
    });
    // Without a topic (search), a broker sequence means nothing: no start.
    expect(viewQuery(view, undefined, NOW)).toEqual({ filter: "data.total > 100", from: "2026-12-03T11:45:00.000Z" });
  });

  it("reads jump targets: sequences, clock times today, dates", () => {
    const now = new Date(2026, 11, 3, 15, 30);
    expect(parseJump("#1234", now)).toEqual({ kind: "sequence", at: "1234" });
    expect(parseJump("seq 99", now)).toEqual({ kind: "sequence", at: "99" });
    expect(parseJump("14:05", now)).toEqual({ kind: "time", at: new Date(2026, 11, 3, 14, 5, 0, 999).toISOString() });
    expect(parseJump("2026-12-01 08:00", now)).toEqual({ kind: "time", at: new Date(2026, 11, 1, 8, 0).toISOString() });
    expect(parseJump("yesterday-ish", now)).toBeNull();
  });
});
