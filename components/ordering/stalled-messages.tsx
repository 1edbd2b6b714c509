"use client";

import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useId, useRef, useState } from "react";
import { useStalledMessages } from "../api/hooks";
import type { StalledKeySummary, StalledMessage } from "../api/types";
import { Button } from "../ui/button";
import { ErrorState, LoadingState } from "../ui/states";
import { MessageIdLink } from "../topic/message-id-link";
import { StatusBadge } from "./status-badge";

// The messages of one stalled key. The board's list carries only the first waiting ones (shown at once);
// "Show all N" pages every message of the entry from GET /api/ordering/{stallId}/messages into a virtualized
// list: only the rows in view (plus overscan) are in the DOM, and the next page loads when the end of the
// loaded rows scrolls into view, so a key with thousands of messages costs a few dozen rows.

const ROW_HEIGHT = 34;
/** The full list scrolls inside this height. */
const LIST_HEIGHT = 320;

function MessageRow({ message: m }: { message: StalledMessage }) {
  return (
    <>
      <span className="w-10 shrink-0 text-right font-mono text-xs text-muted tabular-nums">#{m.seq}</span>
      <StatusBadge status={m.status} />
      <MessageIdLink id={m.id} className="max-w-40 sm:max-w-64" />
      <span className="min-w-0 truncate text-muted">{m.type}</span>
      {m.error && (
        <span className="min-w-0 truncate text-xs text-danger" title={m.error}>
          {m.error}
        </span>
      )}
    </>
  );
}

function AllMessages({ entry, labelId }: { entry: StalledKeySummary; labelId: string }) {
  const pages = useStalledMessages(entry.id, true);
  const rows = pages.data?.pages.flatMap((p) => p.items) ?? [];
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.length > 0 ? items[items.length - 1]!.index : -1;
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = pages;

  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && lastIndex >= rows.length - 1) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage, lastIndex, rows.length]);

  if (pages.isPending) return <LoadingState label="Loading the messages…" />;
  if (pages.isError) return <ErrorState title="Could not load the messages" error={pages.error} onRetry={() => pages.refetch()} />;
  return (
    <div className="flex flex-col gap-1">
      <div
        ref={scrollRef}
        tabIndex={0}
        aria-labelledby={labelId}
        className="overflow-auto rounded-md border border-line"
        style={{ maxHeight: LIST_HEIGHT }}
      >
        <ol aria-labelledby={labelId} className="relative" style={{ height: virtualizer.getTotalSize() }}>
          {items.map((item) => (
            <li
              key={item.key}
              data-testid="stalled-message"
              aria-setsize={entry.messageCount}
              aria-posinset={item.index + 1}
              className="absolute inset-x-0 flex items-center gap-3 border-b border-line px-3 text-sm"
              style={{ top: item.start, height: ROW_HEIGHT }}
            >
              <MessageRow message={rows[item.index]!} />
            </li>
          ))}
        </ol>
      </div>
      <p className="text-xs text-muted" aria-live="polite">
        {rows.length.toLocaleString("en")} of {entry.messageCount.toLocaleString("en")} loaded
        {isFetchingNextPage ? " · loading more…" : hasNextPage ? " · scroll for more" : ""}
      </p>
    </div>
  );
}

/** The first waiting messages of `entry`, and a toggle to every message of it. */
export function StalledMessages({ entry }: { entry: StalledKeySummary }) {
  const [showAll, setShowAll] = useState(false);
  const labelId = useId();
  const more = entry.messageCount > entry.messages.length;
  const label = `${showAll ? "Messages" : "First waiting messages"} of key ${entry.orderingKey}`;
  return (
    <div className="flex flex-col gap-2">
      <span id={labelId} className="sr-only">
        {label}
      </span>
      {showAll ? (
        <AllMessages entry={entry} labelId={labelId} />
      ) : (
        entry.messages.length > 0 && (
          <ol aria-labelledby={labelId} className="flex flex-col divide-y divide-line rounded-md border border-line">
            {entry.messages.map((m) => (
              <li key={`${m.seq}-${m.id}`} data-testid="stalled-message" className="flex min-w-0 items-center gap-3 px-3 py-1.5 text-sm">
                <MessageRow message={m} />
              </li>
            ))}
          </ol>
        )
      )}
      {more && (
        <div>
          <Button size="sm" variant="ghost" aria-expanded={showAll} onClick={() => setShowAll((v) => !v)}>
            {showAll ? "Show the first messages only" : `Show all ${entry.messageCount.toLocaleString("en")} messages`}
          </Button>
        </div>
      )}
    </div>
  );
}
