"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useStalled, useTopics } from "../api/hooks";
import type { StalledKeySummary } from "../api/types";
import { AdminOnly } from "../layout/admin-only";
import { SelectField } from "../ui/field";
import { EmptyState, ErrorState, LoadingState } from "../ui/states";
import { BulkActions } from "./bulk-actions";
import { afterOutcome } from "./outcome";
import { StallCard } from "./stall-card";
import { useStallActions, type KeptOutcome } from "./use-stall-actions";

// The ordering board: open stalled ordering keys grouped by topic (GET /api/ordering, refreshed every few
// seconds: per key its counts and first waiting messages, never every message). The topic filter lives in the
// URL (?topic=) so the paused-keys badges of the topics page link here. Outcomes of Resume/Discard are kept by
// stall id with the entry as it was, so a key stays on the board with its result after the server stopped
// listing it (resumed or discarded entries are not open any more).

function groupByTopic(entries: StalledKeySummary[]): [string, StalledKeySummary[]][] {
  const groups = new Map<string, StalledKeySummary[]>();
  for (const e of entries) groups.set(e.topic, [...(groups.get(e.topic) ?? []), e]);
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
}

/** What to show of a listed entry that has an outcome: the outcome's view until the list catches up. */
function shownEntry(listed: StalledKeySummary, kept: KeptOutcome | undefined): StalledKeySummary {
  if (!kept || "error" in kept.outcome) return listed;
  // A successful action closes the entry; a stopped resume makes it "failed": a "stalled" listing is stale.
  return kept.outcome.ok || listed.status === "stalled" ? afterOutcome(listed, kept.outcome) : listed;
}

export function OrderingBoard() {
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const topic = params.get("topic") || null;
  const stalled = useStalled(topic);
  const topics = useTopics();
  const actions = useStallActions();

  function chooseTopic(next: string) {
    router.replace(next ? `${pathname}?topic=${encodeURIComponent(next)}` : pathname);
  }

  const listed = stalled.data?.stalled ?? [];
  const listedIds = new Set(listed.map((e) => e.id));
  // Entries acted on in this tab stay on the board, with their outcome, when the server no longer lists them.
  const vanished = Object.values(actions.outcomes)
    .filter((k) => !listedIds.has(k.entry.id) && (!topic || k.entry.topic === topic))
    .map((k) => afterOutcome(k.entry, k.outcome));
  const shown = [...listed.map((e) => shownEntry(e, actions.outcomes[e.id])), ...vanished];
  const open = shown.filter((e) => (e.status === "stalled" || e.status === "failed") && !actions.running[e.id]);
  const topicNames = topics.data?.map((t) => t.name) ?? [];
  const totalKeys = stalled.data?.totalKeys ?? 0;

  return (
    <div className="flex flex-col gap-6">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-xl font-semibold">Ordering</h1>
          <p className="text-sm text-muted">
            Ordering keys the core paused after a failed send. Resume resends their messages in the original order.
          </p>
        </div>
        <div className="flex flex-wrap items-end gap-4">
          <SelectField label="Topic" value={topic ?? ""} onChange={(e) => chooseTopic(e.target.value)} className="min-w-48" data-shortcut="filter">
            <option value="">All topics</option>
            {topic && !topicNames.includes(topic) && <option value={topic}>{topic}</option>}
            {topicNames.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </SelectField>
          <AdminOnly>
            <BulkActions entries={open} onRun={actions.all} />
          </AdminOnly>
        </div>
      </div>
      {totalKeys > listed.length && (
        <p role="note" className="text-sm text-warn">
          Showing the newest {listed.length} of {totalKeys} stalled keys; Resume all and Discard all act on these. Pick a topic to
          narrow the list.
        </p>
      )}
      {stalled.isPending ? (
        <LoadingState label="Loading stalled keys…" />
      ) : stalled.isError ? (
        <ErrorState title="Could not load the stalled keys" error={stalled.error} onRetry={() => stalled.refetch()} />
      ) : shown.length === 0 ? (
        <EmptyState title={topic ? `No stalled ordering keys on ${topic}` : "No stalled ordering keys"}>
          Every ordered publish is flowing.
        </EmptyState>
      ) : (
        groupByTopic(shown).map(([name, entries]) => (
          <section key={name} aria-labelledby={`topic-${name}`} className="flex flex-col gap-3">
            <h2 id={`topic-${name}`} className="text-sm font-semibold text-muted">
              {name} · {entries.length} {entries.length === 1 ? "key" : "keys"}
            </h2>
            {entries.map((e) => (
              <StallCard key={e.id} entry={e} outcome={actions.outcomes[e.id]?.outcome} running={actions.running[e.id]} onAction={actions.one} />
            ))}
          </section>
        ))
      )}
    </div>
  );
}
