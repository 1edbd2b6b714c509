import type { MessageFilter } from "../api/types";

/**
 * The state of a history view, all of it in the URL so that a link reproduces the view and Back restores it:
 *
 *   q=<filter text>  range=15m|1h|24h|custom (absent: everything)  from=<ISO>&to=<ISO> (custom)
 *   at=<ISO time> | at=seq:<n> | at=id:<message id>   (the list starts there)
 *   msg=<message id>   (the selected, expanded row)     panel=live|publish|subscriptions|none (topic page)
 *
 * Pure functions: parse from URLSearchParams, write back, and the API query of a view.
 */

export const RANGE_PRESETS = [
  { value: "15m", label: "15 min", ms: 15 * 60_000 },
  { value: "1h", label: "1 h", ms: 3_600_000 },
  { value: "24h", label: "24 h", ms: 24 * 3_600_000 },
] as const;

export type RangePreset = (typeof RANGE_PRESETS)[number]["value"];
export type Range = { kind: "all" } | { kind: "preset"; preset: RangePreset } | { kind: "custom"; from?: string; to?: string };
export type Start = { kind: "time"; at: string } | { kind: "sequence"; at: string } | { kind: "id"; at: string };
export type SidePanel = "live" | "publish" | "subscriptions" | "none";

export interface HistoryView {
  filter: string;
  range: Range;
  start: Start | null;
  selected: string | null;
  panel: SidePanel | null;
}

const PANELS: readonly SidePanel[] = ["live", "publish", "subscriptions", "none"];

function isoOrUndefined(value: string | null): string | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

export function parseView(params: URLSearchParams): HistoryView {
  const rangeParam = params.get("range");
  const preset = RANGE_PRESETS.find((p) => p.value === rangeParam);
  const range: Range = preset
    ? { kind: "preset", preset: preset.value }
    : rangeParam === "custom"
      ? { kind: "custom", from: isoOrUndefined(params.get("from")), to: isoOrUndefined(params.get("to")) }
      : { kind: "all" };
  const panel = params.get("panel");
  return {
    filter: params.get("q") ?? "",
    range,
    start: parseStart(params.get("at")),
    selected: params.get("msg") || null,
    panel: PANELS.includes(panel as SidePanel) ? (panel as SidePanel) : null,
  };
}

function parseStart(at: string | null): Start | null {
  if (!at) return null;
  if (at.startsWith("seq:") && /^\d{1,19}$/.test(at.slice(4))) return { kind: "sequence", at: at.slice(4) };
  if (at.startsWith("id:") && at.length > 3) return { kind: "id", at: at.slice(3) };
  const time = isoOrUndefined(at);
  return time ? { kind: "time", at: time } : null;
}

/** The URL query of a view (stable parameter order, defaults left out). */
export function writeView(view: HistoryView): string {
  const params = new URLSearchParams();
  if (view.filter.trim()) params.set("q", view.filter.trim());
  if (view.range.kind === "preset") params.set("range", view.range.preset);
  if (view.range.kind === "custom") {
    params.set("range", "custom");
    if (view.range.from) params.set("from", view.range.from);
    if (view.range.to) params.set("to", view.range.to);
  }
  if (view.start) params.set("at", view.start.kind === "time" ? view.start.at : `${view.start.kind === "sequence" ? "seq" : "id"}:${view.start.at}`);
  if (view.selected) params.set("msg", view.selected);
  if (view.panel) params.set("panel", view.panel);
  const text = params.toString();
  return text ? `?${text}` : "";
}

/**
 * The API query of a view. A preset range is "the last 15 min / 1 h / 24 h" from `now` (the moment the view
 * was opened, so the list does not move under the reader).
 */
export function viewQuery(view: HistoryView, topic: string | undefined, now: number): MessageFilter {
  const query: MessageFilter = {};
  if (topic !== undefined) query.topic = topic;
  if (view.filter.trim()) query.filter = view.filter.trim();
  if (view.range.kind === "preset") {
    const preset = RANGE_PRESETS.find((p) => p.value === (view.range as { preset: RangePreset }).preset)!;
    query.from = new Date(now - preset.ms).toISOString();
  } else if (view.range.kind === "custom") {
    if (view.range.from) query.from = view.range.from;
    if (view.range.to) query.to = view.range.to;
  }
  if (view.start?.kind === "time") query.atTime = view.start.at;
  if (view.start?.kind === "sequence" && topic !== undefined) query.atSequence = view.start.at;
  if (view.start?.kind === "id") query.atId = view.start.at;
  return query;
}

/**
 * What "jump to" accepts: a broker sequence (`#1234`, `seq 1234`, `1234`), or a time (`14:05`, `14:05:30` today
 * in local time, or a date and time such as `2026-12-03 14:05`). null when it is neither.
 */
export function parseJump(text: string, now = new Date()): Start | null {
  const value = text.trim();
  const sequence = /^(?:#|seq\s*[:=]?\s*)?(\d{1,19})$/i.exec(value);
  if (sequence) return { kind: "sequence", at: sequence[1]! };
  const clock = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (clock) {
    const at = new Date(now);
    at.setHours(Number(clock[1]), Number(clock[2]), Number(clock[3] ?? 0), 999);
    return Number.isNaN(at.getTime()) ? null : { kind: "time", at: at.toISOString() };
  }
  const ms = Date.parse(value.replace(" ", "T"));
  return Number.isNaN(ms) ? null : { kind: "time", at: new Date(ms).toISOString() };
}
