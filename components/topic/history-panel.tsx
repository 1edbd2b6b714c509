"use client";

import { useCallback, useState } from "react";
import { useMessageHistory } from "../api/hooks";
import type { MessageFilter } from "../api/types";
import { Button } from "../ui/button";
import { Panel } from "../ui/panel";
import { EmptyState, ErrorState, LoadingState } from "../ui/states";
import { HistoryFilters } from "./history-filters";
import { HistoryTable } from "./history-table";

/** The recorded history of one topic: filters, then the virtualized table with infinite keyset scrolling. */
export function HistoryPanel({ topic }: { topic: string }) {
  const [filter, setFilter] = useState<MessageFilter>({ topic });
  const history = useMessageHistory(filter);
  const rows = history.data?.pages.flatMap((p) => p.items) ?? [];
  const filtered = Object.keys(filter).length > 1;
  const { fetchNextPage, error, isFetchNextPageError } = history;
  const loadMore = useCallback(() => void fetchNextPage(), [fetchNextPage]);

  return (
    <Panel
      title="History"
      actions={
        <Button size="sm" variant="ghost" onClick={() => history.refetch()} disabled={history.isFetching}>
          {history.isFetching && !history.isFetchingNextPage ? "Refreshing…" : "Refresh"}
        </Button>
      }
    >
      <div className="flex flex-col gap-4">
        <HistoryFilters topic={topic} onApply={setFilter} />
        {history.isPending ? (
          <LoadingState label="Loading history…" />
        ) : history.isError ? (
          <ErrorState title="Could not load the history" error={history.error} onRetry={() => history.refetch()} />
        ) : rows.length === 0 ? (
          <EmptyState title={filtered ? "No message matches these filters" : "No messages recorded yet"}>
            {filtered ? "Change or reset the filters." : "Publish a test event, or wait for traffic."}
          </EmptyState>
        ) : (
          <>
            <HistoryTable
              rows={rows}
              hasMore={history.hasNextPage}
              loadingMore={history.isFetchingNextPage}
              onNeedMore={loadMore}
            />
            <p className="text-xs text-muted" aria-live="polite">
              {rows.length} {rows.length === 1 ? "message" : "messages"} loaded
              {history.hasNextPage ? "; scroll down to load more" : "; that is all"}.
            </p>
            {isFetchNextPageError && <ErrorState title="Could not load more" error={error} onRetry={loadMore} />}
          </>
        )}
      </div>
    </Panel>
  );
}
