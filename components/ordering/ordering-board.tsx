"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";
import { useStalled, useTopics } from "../api/hooks";
import type { ResendResult, StalledEntry } from "../api/types";
import { SelectField } from "../ui/field";
import { EmptyState, ErrorState, LoadingState } from "../ui/states";
import { StallCard, withResults } from "./stall-card";

// The ordering board: open stalled ordering keys grouped by topic (GET /api/ordering lists those still
// "stalled" or "failed", refreshed every few seconds). The topic filter lives in the URL (?topic=) so the
// paused-keys badges can link here. The results of a Resume are kept here, by stall id, with the entry as it
// was, so they stay on screen after the server stops listing the entry; a Discard leaves a one-line notice.

type Resumed = { entry: StalledEntry; results: ResendResult[] };

function groupByTopic(entries: StalledEntry[]): [string, StalledEntry[]][] {
  const groups = new Map<string, StalledEntry[]>();
  for (const e of entries) groups.set(e.topic, [...(groups.get(e.topic) ?? []), e]);
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
}

export function OrderingBoard() {
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const topic = params.get("topic") || null;
  const [resumed, setResumed] = useState<Record<string, Resumed>>({});
  const [notices, setNotices] = useState<string[]>([]);
  const stalled = useStalled(topic);
  const topics = useTopics();

  function chooseTopic(next: string) {
    router.replace(next ? `${pathname}?topic=${encodeURIComponent(next)}` : pathname);
  }

  function onResumed(entry: StalledEntry, results: ResendResult[]) {
    setResumed((r) => ({ ...r, [entry.id]: { entry, results } }));
  }

  function onDiscarded(entry: StalledEntry, discarded: number) {
    const notice = `Discarded ${discarded} ${discarded === 1 ? "message" : "messages"} of key ${entry.orderingKey} on ${entry.topic}.`;
    setNotices((n) => [notice, ...n].slice(0, 5));
  }

  const listed = stalled.data ?? [];
  const listedIds = new Set(listed.map((e) => e.id));
  // Entries resumed in this tab stay on the board even when the server no longer lists them.
  const vanished = Object.values(resumed)
    .filter((r) => !listedIds.has(r.entry.id) && (!topic || r.entry.topic === topic))
    .map((r) => withResults(r.entry, r.results));
  const shown = [...listed, ...vanished];
  const topicNames = topics.data?.map((t) => t.name) ?? [];

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
          <SelectField label="Topic" value={topic ?? ""} onChange={(e) => chooseTopic(e.target.value)} className="min-w-48">
            <option value="">All topics</option>
            {topic && !topicNames.includes(topic) && <option value={topic}>{topic}</option>}
            {topicNames.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </SelectField>
        </div>
      </div>
      {notices.length > 0 && (
        <ul role="status" aria-label="Recent actions" className="flex flex-col gap-1 text-sm text-muted">
          {notices.map((n, i) => (
            <li key={`${i}-${n}`}>{n}</li>
          ))}
        </ul>
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
              <StallCard key={e.id} entry={e} results={resumed[e.id]?.results} onResumed={onResumed} onDiscarded={onDiscarded} />
            ))}
          </section>
        ))
      )}
    </div>
  );
}
