"use client";

import { useEffect, useRef, useState } from "react";
import type { StalledKeySummary } from "../api/types";
import { Button } from "../ui/button";
import { Dialog } from "../ui/dialog";
import type { Action, BulkSummary } from "./use-stall-actions";

// Resume all / Discard all of the keys the board shows. Contract: nothing happens without a confirmation that
// lists every key with how many messages wait on it (so the operator sees what "all" means); the keys are then
// handled one after the other, with progress in the dialog; the summary is shown beside the buttons and takes
// focus (Cancel gives focus back to the button that opened the dialog).

const messages = (n: number) => `${n.toLocaleString("en")} ${n === 1 ? "message" : "messages"}`;

const words: Record<Action, { title: string; verb: string; running: string; danger: boolean }> = {
  resume: { title: "Resume", verb: "resent in their original order, key by key", running: "Resuming", danger: false },
  discard: { title: "Discard", verb: "dropped and never sent; the keys flow again", running: "Discarding", danger: true },
};

export function BulkActions({
  entries,
  onRun,
}: {
  /** The open entries the board shows: what "all" means. */
  entries: readonly StalledKeySummary[];
  onRun: (entries: readonly StalledKeySummary[], action: Action, progress: (done: number) => void) => Promise<BulkSummary>;
}) {
  const [asking, setAsking] = useState<Action | null>(null);
  /** The entries confirmed: fixed when the dialog opens, so a poll cannot change what is being confirmed. */
  const [confirming, setConfirming] = useState<readonly StalledKeySummary[]>([]);
  const [done, setDone] = useState<number | null>(null);
  const [summary, setSummary] = useState<BulkSummary | null>(null);
  const summaryRef = useRef<HTMLParagraphElement>(null);
  const focusSummary = useRef(false);

  useEffect(() => {
    if (!focusSummary.current || asking) return;
    focusSummary.current = false;
    summaryRef.current?.focus();
  }, [summary, asking]);

  function open(action: Action) {
    setConfirming(entries);
    setDone(null);
    setAsking(action);
  }

  async function run(action: Action) {
    setDone(0);
    const result = await onRun(confirming, action, setDone);
    focusSummary.current = true;
    setSummary(result);
    setDone(null);
    setAsking(null);
  }

  const total = confirming.reduce((n, e) => n + e.waitingCount, 0);
  const w = asking ? words[asking] : null;
  const busy = done !== null;
  const keys = (n: number) => `${n} ${n === 1 ? "key" : "keys"}`;

  return (
    <div className="flex flex-col items-end gap-2">
      <div className="flex flex-wrap gap-2">
        <Button variant="primary" size="sm" disabled={entries.length === 0 || busy} onClick={() => open("resume")}>
          Resume all…
        </Button>
        <Button variant="danger" size="sm" disabled={entries.length === 0 || busy} onClick={() => open("discard")}>
          Discard all…
        </Button>
      </div>
      {summary && (
        <p
          ref={summaryRef}
          tabIndex={-1}
          role="status"
          data-testid="bulk-result"
          className={summary.succeeded === summary.keys ? "text-sm font-medium text-ok" : "text-sm font-medium text-danger"}
        >
          {summary.text}
        </p>
      )}
      <Dialog
        open={asking !== null}
        onClose={() => (busy ? undefined : setAsking(null))}
        title={w ? `${w.title} ${keys(confirming.length)}, ${messages(total)}?` : ""}
        footer={
          w && asking ? (
            <>
              <Button onClick={() => setAsking(null)} disabled={busy} data-autofocus>
                Cancel
              </Button>
              <Button variant={w.danger ? "danger" : "primary"} disabled={busy} onClick={() => void run(asking)}>
                {busy ? `${w.running}…` : `${w.title} ${keys(confirming.length)}`}
              </Button>
            </>
          ) : null
        }
      >
        {w && (
          <div className="flex flex-col gap-3 text-sm">
            <p>The waiting messages of each key below are {w.verb}. Each key is written to the audit log.</p>
            <ul aria-label="Keys and their waiting messages" className="max-h-64 overflow-auto rounded-md border border-line">
              {confirming.map((e) => (
                <li key={e.id} className="flex justify-between gap-3 border-b border-line px-3 py-1.5 last:border-0">
                  <span className="min-w-0 truncate">
                    <span className="font-mono">{e.orderingKey}</span> <span className="text-muted">on {e.topic}</span>
                  </span>
                  <span className="shrink-0 tabular-nums">{messages(e.waitingCount)}</span>
                </li>
              ))}
            </ul>
            {busy && (
              <p role="status" className="text-muted">
                {w.running} key {Math.min(done + 1, confirming.length)} of {confirming.length}…
              </p>
            )}
          </div>
        )}
      </Dialog>
    </div>
  );
}
