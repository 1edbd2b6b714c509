"use client";

import { HistoryPanel } from "../topic/history-panel";

/**
 * Search across every topic: the topic page's history view without a topic (a topic column, `topic = …` in the
 * filter narrows it), with the same filter language, time range, jump and URL state.
 */
export function SearchView() {
  return (
    <div className="flex flex-col gap-4">
      <div>
        <h1 className="text-xl font-semibold">Search</h1>
        <p className="mt-1 text-sm text-muted">
          Messages of every topic, newest first. Narrow by topic with <code className="font-mono">topic = orders*</code>, by data with{" "}
          <code className="font-mono">data.customer = &quot;c-42&quot;</code>.
        </p>
      </div>
      <HistoryPanel />
    </div>
  );
}
