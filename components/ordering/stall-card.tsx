"use client";

import Link from "next/link";
import { useState } from "react";
import { useDiscardStall, useResumeStall } from "../api/hooks";
import type { ResendResult, StalledEntry } from "../api/types";
import { AdminOnly } from "../layout/admin-only";
import { Button } from "../ui/button";
import { Dialog } from "../ui/dialog";
import { ErrorState } from "../ui/states";
import { RelativeTime } from "../ui/time";
import { MessageIdLink } from "../topic/message-id-link";
import { ResumeResults } from "./resume-results";
import { StatusBadge } from "./status-badge";

// One stalled ordering key: its error, its messages in their original order with their status, and the
// Resume / Discard actions. Resume and Discard are offered while the entry is "stalled" or "failed"
// (a resume whose resend failed can be tried again). `onResumed` hands the per-message results up, so the
// board can keep showing them after the list refreshes.

/** The entry as a resume left it: message statuses from `results`, entry "resumed" or "failed". */
export function withResults(entry: StalledEntry, results: ResendResult[]): StalledEntry {
  const bySeq = new Map(results.map((r) => [r.seq, r]));
  const messages = entry.messages.map((m) => {
    const r = bySeq.get(m.seq);
    return r ? { ...m, status: r.status, error: r.error ?? null } : m;
  });
  return { ...entry, status: results.some((r) => r.status === "failed") ? "failed" : "resumed", messages };
}

export function StallCard({
  entry: listed,
  results,
  onResumed,
  onDiscarded,
}: {
  entry: StalledEntry;
  results?: ResendResult[];
  onResumed: (entry: StalledEntry, results: ResendResult[]) => void;
  onDiscarded: (entry: StalledEntry, discarded: number) => void;
}) {
  // Until the refreshed list catches up, a resumed entry shows what the resume reported.
  const entry = results && listed.status === "stalled" ? withResults(listed, results) : listed;
  const resume = useResumeStall();
  const discard = useDiscardStall();
  const [confirmDiscard, setConfirmDiscard] = useState(false);
  const actionable = entry.status === "stalled" || entry.status === "failed";
  const messages = [...entry.messages].sort((a, b) => a.seq - b.seq);
  const closeDiscard = () => {
    setConfirmDiscard(false);
    discard.reset();
  };

  return (
    <article
      aria-labelledby={`stall-${entry.id}`}
      data-testid="stall-card"
      data-ordering-key={entry.orderingKey}
      className="rounded-lg border border-line bg-surface"
    >
      <header className="flex flex-wrap items-start justify-between gap-3 border-b border-line px-4 py-3">
        <div className="min-w-0">
          <h3 id={`stall-${entry.id}`} className="flex flex-wrap items-center gap-2 text-sm font-semibold">
            Key <span className="font-mono">{entry.orderingKey}</span>
            <span className="font-normal text-muted">on</span>
            <Link href={`/topics/${encodeURIComponent(entry.topic)}`} className="text-accent hover:underline">
              {entry.topic}
            </Link>
            <StatusBadge status={entry.status} />
          </h3>
          <p className="mt-0.5 text-xs text-muted">
            stalled <RelativeTime iso={entry.createdAt} /> · updated <RelativeTime iso={entry.updatedAt} /> · {messages.length}{" "}
            {messages.length === 1 ? "message" : "messages"}
          </p>
        </div>
        {actionable && (
          <AdminOnly fallback={<span className="text-xs text-muted">Resume and discard need the admin role</span>}>
            <div className="flex gap-2">
              <Button
                variant="primary"
                size="sm"
                disabled={resume.isPending || discard.isPending}
                onClick={() => resume.mutate(entry.id, { onSuccess: (data) => onResumed(entry, data.results) })}
              >
                {resume.isPending ? "Resuming…" : "Resume"}
              </Button>
              <Button variant="danger" size="sm" disabled={resume.isPending || discard.isPending} onClick={() => setConfirmDiscard(true)}>
                Discard…
              </Button>
            </div>
          </AdminOnly>
        )}
      </header>
      <div className="flex flex-col gap-3 px-4 py-3">
        <div>
          <p className="text-xs font-medium text-muted">Error</p>
          <pre className="mt-1 max-h-32 overflow-auto rounded-md bg-danger-soft px-3 py-2 font-mono text-xs whitespace-pre-wrap text-danger">
            {entry.error}
          </pre>
        </div>
        <ol aria-label={`Stalled messages of key ${entry.orderingKey}`} className="flex flex-col divide-y divide-line rounded-md border border-line">
          {messages.map((m) => (
            <li key={`${m.seq}-${m.id}`} data-testid="stalled-message" className="flex flex-wrap items-center gap-3 px-3 py-1.5 text-sm">
              <span className="w-8 text-right font-mono text-xs text-muted tabular-nums">#{m.seq}</span>
              <StatusBadge status={m.status} />
              <MessageIdLink id={m.id} className="max-w-64" />
              <span className="truncate text-muted">{m.type}</span>
              {m.error && <span className="text-xs text-danger">{m.error}</span>}
            </li>
          ))}
        </ol>
        {resume.isError && <ErrorState title="Resume failed" error={resume.error} />}
        {results && <ResumeResults results={results} />}
      </div>
      <Dialog
        open={confirmDiscard}
        onClose={closeDiscard}
        title={`Discard ${messages.length} stalled ${messages.length === 1 ? "message" : "messages"}?`}
        footer={
          <>
            <Button onClick={closeDiscard} data-autofocus>
              Cancel
            </Button>
            <Button
              variant="danger"
              disabled={discard.isPending}
              onClick={() =>
                discard.mutate(entry.id, {
                  onSuccess: (data) => {
                    closeDiscard();
                    onDiscarded(entry, data.discarded);
                  },
                })
              }
            >
              {discard.isPending ? "Discarding…" : "Discard"}
            </Button>
          </>
        }
      >
        <p className="text-sm">
          The messages of key <span className="font-mono">{entry.orderingKey}</span> on {entry.topic} are dropped and never
          sent. This is written to the audit log.
        </p>
        {discard.isError && <ErrorState className="mt-3" title="Discard failed" error={discard.error} />}
      </Dialog>
    </article>
  );
}
