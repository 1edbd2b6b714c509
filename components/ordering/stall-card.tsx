"use client";

import { Link } from "../ui/link";
import { useEffect, useRef, useState } from "react";
import type { StalledKeySummary } from "../api/types";
import { AdminOnly } from "../layout/admin-only";
import { Button } from "../ui/button";
import { cx } from "../ui/cx";
import { Dialog } from "../ui/dialog";
import { RelativeTime } from "../ui/time";
import { describeOutcome, type StallOutcome } from "./outcome";
import { StalledMessages } from "./stalled-messages";
import { StatusBadge } from "./status-badge";
import type { Action } from "./use-stall-actions";

// One stalled ordering key: when it stalled and why, how many messages wait, the first of them (all on
// demand), and Resume / Discard. Contract: the outcome of the last action on the key is shown right under the
// buttons (in view where the button was pressed), and focus moves there when the action was started from this
// card, so keyboard and screen-reader users land on the result. Resume and Discard are offered while the entry
// is "stalled" or "failed" (a resume that stopped can be tried again); Discard asks first, naming the count.

const count = (n: number, one: string, many: string) => `${n.toLocaleString("en")} ${n === 1 ? one : many}`;

export function StallCard({
  entry,
  outcome,
  running,
  onAction,
}: {
  entry: StalledKeySummary;
  /** The outcome of the last Resume/Discard of this entry in this tab, if any. */
  outcome?: StallOutcome;
  /** The action under way on this entry (from this card or a bulk action). */
  running?: Action;
  onAction: (entry: StalledKeySummary, action: Action) => Promise<StallOutcome>;
}) {
  const [confirmDiscard, setConfirmDiscard] = useState(false);
  const resultRef = useRef<HTMLParagraphElement>(null);
  /** Set when an action started here finished: the result takes focus once the dialog (if any) is closed. */
  const focusResult = useRef(false);
  const [actionsDone, setActionsDone] = useState(0);
  const actionable = entry.status === "stalled" || entry.status === "failed";
  const headingId = `stall-${entry.id}`;

  useEffect(() => {
    if (!focusResult.current || confirmDiscard) return;
    focusResult.current = false;
    resultRef.current?.focus();
  }, [actionsDone, confirmDiscard]);

  async function act(action: Action) {
    await onAction(entry, action);
    focusResult.current = true;
    setConfirmDiscard(false);
    setActionsDone((n) => n + 1);
  }

  return (
    <article aria-labelledby={headingId} data-testid="stall-card" data-ordering-key={entry.orderingKey} className="rounded-lg border border-line bg-surface">
      <header className="flex flex-col gap-2 border-b border-line px-4 py-3">
        <div className="flex flex-wrap items-start justify-between gap-3">
          <div className="min-w-0">
            <h3 id={headingId} className="flex flex-wrap items-center gap-2 text-sm font-semibold">
              Key <span className="font-mono break-all">{entry.orderingKey}</span>
              <span className="font-normal text-muted">on</span>
              <Link href={`/topics/${encodeURIComponent(entry.topic)}`} className="text-accent hover:underline">
                {entry.topic}
              </Link>
              <StatusBadge status={entry.status} />
            </h3>
            <p className="mt-0.5 text-xs text-muted">
              stalled <RelativeTime iso={entry.createdAt} /> · <span data-testid="waiting-count">{count(entry.waitingCount, "message", "messages")} waiting</span>
              {entry.messageCount !== entry.waitingCount && ` · ${count(entry.messageCount, "message", "messages")} in all`}
            </p>
          </div>
          {actionable && (
            <AdminOnly fallback={<span className="text-xs text-muted">Resume and discard need the admin role</span>}>
              <div className="flex gap-2">
                <Button variant="primary" size="sm" disabled={running !== undefined} onClick={() => void act("resume")}>
                  {running === "resume" ? "Resuming…" : "Resume"}
                </Button>
                <Button variant="danger" size="sm" disabled={running !== undefined} onClick={() => setConfirmDiscard(true)}>
                  {running === "discard" ? "Discarding…" : "Discard…"}
                </Button>
              </div>
            </AdminOnly>
          )}
        </div>
        {outcome && (
          <p
            ref={resultRef}
            tabIndex={-1}
            role="status"
            data-testid="stall-result"
            data-ok={outcome.ok}
            className={cx(
              "rounded-md px-3 py-2 text-sm font-medium",
              outcome.ok ? "bg-ok-soft text-ok" : "bg-danger-soft text-danger",
            )}
          >
            {describeOutcome(outcome)}
          </p>
        )}
      </header>
      <div className="flex flex-col gap-3 px-4 py-3">
        <div>
          <p className="text-xs font-medium text-muted">Error</p>
          <pre className="mt-1 max-h-32 overflow-auto rounded-md bg-danger-soft px-3 py-2 font-mono text-xs whitespace-pre-wrap text-danger">
            {entry.error}
          </pre>
        </div>
        <StalledMessages entry={entry} />
      </div>
      <Dialog
        open={confirmDiscard}
        onClose={() => setConfirmDiscard(false)}
        title={`Discard ${count(entry.waitingCount, "stalled message", "stalled messages")}?`}
        footer={
          <>
            <Button onClick={() => setConfirmDiscard(false)} data-autofocus>
              Cancel
            </Button>
            <Button variant="danger" disabled={running !== undefined} onClick={() => void act("discard")}>
              {running === "discard" ? "Discarding…" : "Discard"}
            </Button>
          </>
        }
      >
        <p className="text-sm">
          The {count(entry.waitingCount, "message", "messages")} waiting on key <span className="font-mono">{entry.orderingKey}</span> on{" "}
          {entry.topic} are dropped and never sent; the key flows again. This is written to the audit log.
        </p>
      </Dialog>
    </article>
  );
}
