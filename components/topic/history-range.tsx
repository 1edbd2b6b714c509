"use client";

import { useState, type FormEvent } from "react";
import { Button } from "../ui/button";
import { controlBaseClass } from "../ui/field";
import { formatDateTime } from "../ui/format";
import { cx } from "../ui/cx";
import { parseJump, RANGE_PRESETS, type Range, type Start } from "./history-view-state";

// Time range presets (15 min, 1 h, 24 h, everything, custom) and "jump to" a time or a broker sequence.
// Custom times are entered in local time with seconds (datetime-local) and kept as ISO 8601 UTC in the URL.

function toLocalInput(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function fromLocalInput(local: string): string | undefined {
  if (!local) return undefined;
  const ms = Date.parse(local);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

const pill = (pressed: boolean) =>
  cx("rounded px-2.5 py-1 text-xs", pressed ? "bg-accent text-on-accent" : "text-muted hover:bg-subtle hover:text-ink");

export function HistoryRange({
  range,
  start,
  sequences,
  onRange,
  onStart,
}: {
  range: Range;
  start: Start | null;
  /** Whether "jump to" offers broker sequences (one topic). */
  sequences: boolean;
  onRange: (range: Range) => void;
  onStart: (start: Start | null) => void;
}) {
  const [custom, setCustom] = useState(() => ({
    open: range.kind === "custom",
    from: toLocalInput(range.kind === "custom" ? range.from : undefined),
    to: toLocalInput(range.kind === "custom" ? range.to : undefined),
  }));
  const [jump, setJump] = useState("");
  const [jumpError, setJumpError] = useState<string | null>(null);

  function applyCustom(event: FormEvent) {
    event.preventDefault();
    onRange({ kind: "custom", from: fromLocalInput(custom.from), to: fromLocalInput(custom.to) });
  }

  function applyJump(event: FormEvent) {
    event.preventDefault();
    const target = parseJump(jump);
    if (!target || (target.kind === "sequence" && !sequences)) {
      setJumpError(sequences ? "Enter a time (14:05, 2026-12-03 14:05) or a sequence (#1234)" : "Enter a time (14:05, 2026-12-03 14:05)");
      return;
    }
    setJumpError(null);
    onStart(target);
  }

  return (
    <div className="flex flex-col gap-2">
      <div className="flex flex-wrap items-center gap-x-4 gap-y-2">
        <div role="group" aria-label="Time range" className="flex rounded-md border border-line p-0.5">
          <button type="button" aria-pressed={range.kind === "all"} className={pill(range.kind === "all")} onClick={() => onRange({ kind: "all" })}>
            All
          </button>
          {RANGE_PRESETS.map((p) => {
            const pressed = range.kind === "preset" && range.preset === p.value;
            return (
              <button key={p.value} type="button" aria-pressed={pressed} className={pill(pressed)} onClick={() => onRange({ kind: "preset", preset: p.value })}>
                {p.label}
              </button>
            );
          })}
          <button
            type="button"
            aria-pressed={range.kind === "custom"}
            aria-expanded={custom.open}
            className={pill(range.kind === "custom")}
            onClick={() => setCustom((c) => ({ ...c, open: !c.open }))}
          >
            Custom…
          </button>
        </div>
        <form onSubmit={applyJump} aria-label="Jump" className="flex items-center gap-2">
          <label htmlFor="history-jump" className="text-xs font-medium text-muted">
            Jump to
          </label>
          <input
            id="history-jump"
            value={jump}
            onChange={(e) => setJump(e.target.value)}
            placeholder={sequences ? "14:05 · 2026-12-03 14:05 · #1234" : "14:05 · 2026-12-03 14:05"}
            aria-invalid={jumpError !== null}
            className={`${controlBaseClass} w-56 py-1 text-xs`}
          />
          <Button type="submit" size="sm">
            Go
          </Button>
        </form>
        {start && (
          <p className="flex items-center gap-2 text-xs" data-testid="history-start">
            <span className="rounded bg-accent-soft px-2 py-0.5 text-accent">
              Starting at{" "}
              {start.kind === "time" ? formatDateTime(start.at) : start.kind === "sequence" ? `sequence ${start.at}` : `message ${start.at}`}
            </span>
            <Button size="sm" variant="ghost" onClick={() => onStart(null)}>
              Back to newest
            </Button>
          </p>
        )}
      </div>
      {jumpError && (
        <p role="alert" className="text-xs text-danger">
          {jumpError}
        </p>
      )}
      {custom.open && (
        <form onSubmit={applyCustom} aria-label="Custom time range" className="flex flex-wrap items-end gap-3">
          <label className="flex flex-col gap-1 text-xs font-medium text-muted">
            From
            <input type="datetime-local" step={1} value={custom.from} onChange={(e) => setCustom((c) => ({ ...c, from: e.target.value }))} className={`${controlBaseClass} w-60`} />
          </label>
          <label className="flex flex-col gap-1 text-xs font-medium text-muted">
            To
            <input type="datetime-local" step={1} value={custom.to} onChange={(e) => setCustom((c) => ({ ...c, to: e.target.value }))} className={`${controlBaseClass} w-60`} />
          </label>
          <Button type="submit" variant="primary">
            Apply range
          </Button>
        </form>
      )}
    </div>
  );
}
