"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useState, type ReactNode } from "react";
import { NEWER_COUNT_LIMIT, useMessage, useMessageHistory, useNewerCount } from "../api/hooks";
import { queryKeys } from "../api/keys";
import { Button } from "../ui/button";
import { formatDateTime } from "../ui/format";
import { EmptyState, ErrorState, LoadingState } from "../ui/states";
import { HistoryFilters } from "./history-filters";
import { HistoryRange } from "./history-range";
import { HistoryRowDetail } from "./history-row-detail";
import { HistoryTable } from "./history-table";
import { useHistoryView } from "./use-history-view";
import type { HistoryView } from "./history-view-state";

/**
 * A history view, the topic page's (`topic`) or a search across every topic: the filter, the time range and
 * "jump to", then (`charts`, given the view's range) the charts, then the rows. Everything that defines the view
 * is in the URL (use-history-view.ts). Rows stay where they are while the reader reads: rows recorded since are
 * announced by the "N new — show" bar and only shown when asked.
 */
export function HistoryPanel({
  topic,
  charts,
}: {
  topic?: string;
  /** The charts of the view's range; `now` is when the view was opened (the end of a range without one). */
  charts?: (range: { from: string | undefined; to: string | undefined; now: number }) => ReactNode;
}) {
  const { view, query, now, update, refresh } = useHistoryView(topic);
  const history = useMessageHistory(query);
  const client = useQueryClient();
  const [focusRequest, setFocusRequest] = useState(0);
  const rows = history.data?.pages.flatMap((p) => p.items) ?? [];
  const firstPage = history.data?.pages[0];
  const last = history.data?.pages.at(-1);
  // New rows are counted for a view that ends now (no custom end, no start position).
  const live = view.start === null && !(view.range.kind === "custom" && view.range.to);
  const newer = useNewerCount(query, live && rows.length > 0 ? (firstPage?.newerCursor ?? null) : null);
  const { fetchNextPage, error, isFetchNextPageError } = history;
  const loadMore = useCallback(() => void fetchNextPage(), [fetchNextPage]);
  const filtered = view.filter !== "" || view.range.kind !== "all";
  const selectedLoaded = view.selected !== null && rows.some((m) => m.id === view.selected);
  const set = (change: Partial<HistoryView>) => update(change, "push");

  async function showNew() {
    await client.resetQueries({ queryKey: queryKeys.messages.browse(query), exact: true });
    refresh();
  }

  return (
    <section aria-labelledby="history-heading" className="flex min-w-0 flex-col gap-3">
      <div className="flex items-baseline justify-between gap-2">
        <h2 id="history-heading" className="text-base font-semibold">
          {topic === undefined ? "Messages in every topic" : "History"}
        </h2>
        <p className="text-xs text-muted">
          Press <kbd className="rounded border border-line px-1">/</kbd> to filter, <kbd className="rounded border border-line px-1">↓</kbd> to reach the rows
        </p>
      </div>
      <HistoryFilters
        value={view.filter}
        onApply={(filter) => set({ filter, start: null, selected: null })}
        onLeave={() => setFocusRequest((n) => n + 1)}
        label={topic === undefined ? "Search every topic" : "Filter history"}
      />
      <HistoryRange
        range={view.range}
        start={view.start}
        sequences={topic !== undefined}
        onRange={(range) => set({ range, start: null })}
        onStart={(start) => set({ start, selected: null })}
      />
      {charts?.({ from: query.from, to: query.to, now })}
      {/* Announced in a floating bar that takes no room, so the rows below never move while one reads them. */}
      <div className="sticky top-2 z-20 h-0 overflow-visible">
        {newer.data !== undefined && newer.data !== null && newer.data > 0 && (
          <div role="status" className="mx-auto flex w-fit items-center gap-3 rounded-full border border-accent bg-surface py-1 pr-1 pl-4 text-sm text-accent shadow-md">
            <span>
              {newer.data > NEWER_COUNT_LIMIT ? `${NEWER_COUNT_LIMIT}+` : newer.data} new {newer.data === 1 ? "message" : "messages"} since this list was loaded
            </span>
            <Button size="sm" variant="primary" onClick={() => void showNew()}>
              Show
            </Button>
          </div>
        )}
      </div>
      {view.selected !== null && !selectedLoaded && !history.isPending && (
        <SelectedMessage id={view.selected} onClose={() => update({ selected: null }, "replace")} onShow={() => set({ start: { kind: "id", at: view.selected! } })} />
      )}
      {history.isPending ? (
        <LoadingState label="Loading history…" />
      ) : history.isError ? (
        <ErrorState title="Could not load the history" error={history.error} onRetry={() => history.refetch()} />
      ) : rows.length === 0 && !history.hasNextPage ? (
        <EmptyState title={filtered ? "No message matches these filters" : "No messages recorded yet"}>
          {filtered ? "Change or clear the filter or the time range." : "Publish a test event, or wait for traffic."}
        </EmptyState>
      ) : (
        <>
          <HistoryTable
            rows={rows}
            hasMore={history.hasNextPage}
            loadingMore={history.isFetchingNextPage}
            onNeedMore={loadMore}
            selected={view.selected}
            onSelect={(selected) => update({ selected }, "replace")}
            showTopic={topic === undefined}
            focusRequest={focusRequest}
            label={topic === undefined ? "Search results" : "Message history"}
          />
          <p className="text-xs text-muted" aria-live="polite">
            {rows.length} {rows.length === 1 ? "message" : "messages"} loaded
            {history.hasNextPage
              ? last?.searchedTo
                ? `; searched back to ${formatDateTime(last.searchedTo)}, scroll down to search further`
                : "; scroll down to load more"
              : "; that is all"}
            .
          </p>
          {isFetchNextPageError && <ErrorState title="Could not load more" error={error} onRetry={loadMore} />}
        </>
      )}
    </section>
  );
}

/** A selected message (`msg`) that is not among the loaded rows: shown above them, with a way to list it. */
function SelectedMessage({ id, onClose, onShow }: { id: string; onClose: () => void; onShow: () => void }) {
  const message = useMessage(id);
  return (
    <div className="rounded-md border border-accent bg-surface p-3" data-testid="selected-message">
      <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
        <h3 className="text-sm font-semibold">
          Selected message <span className="font-mono text-xs break-all">{id}</span>
        </h3>
        <Button size="sm" onClick={onShow}>
          Show it in the list
        </Button>
      </div>
      {message.isPending ? (
        <LoadingState label="Loading the message…" />
      ) : message.isError ? (
        <ErrorState title="Could not load the selected message" error={message.error} />
      ) : (
        <HistoryRowDetail summary={message.data} onClose={onClose} />
      )}
    </div>
  );
}
