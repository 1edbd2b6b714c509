"use client";

import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef } from "react";
import type { MessageSummary } from "../api/types";
import { Badge } from "../ui/badge";
import { formatBytes, formatDateTime } from "../ui/format";
import { MessageIdLink } from "./message-id-link";
import { ReplayOfBadge } from "./replay-of-badge";

// A virtualized history table: only the rows in view (plus overscan) are in the DOM. When the last
// rendered row is the last loaded one and there is a next keyset page, `onNeedMore` is called once per
// page (the parent guards with `loadingMore`). ARIA table roles keep it a table for assistive tech.

const COLUMNS = "grid-cols-[minmax(11rem,1.4fr)_minmax(9rem,1.1fr)_minmax(8rem,1fr)_minmax(6rem,0.8fr)_minmax(6rem,0.8fr)_4.5rem_10.5rem]";
const ROW_HEIGHT = 40;
const HEADER_HEIGHT = 34;
/** The table grows with its rows up to this height, then scrolls (and loads more near the end). */
const MAX_HEIGHT = 448;

export function HistoryTable({
  rows,
  hasMore,
  loadingMore,
  onNeedMore,
}: {
  rows: MessageSummary[];
  hasMore: boolean;
  loadingMore: boolean;
  onNeedMore: () => void;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const count = hasMore ? rows.length + 1 : rows.length;
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.length ? items[items.length - 1].index : -1;

  useEffect(() => {
    if (hasMore && !loadingMore && lastIndex >= rows.length - 1) onNeedMore();
  }, [hasMore, loadingMore, lastIndex, rows.length, onNeedMore]);

  return (
    <div
      ref={scrollRef}
      role="table"
      aria-label="Message history"
      aria-rowcount={hasMore ? -1 : rows.length + 1}
      tabIndex={0}
      style={{ height: Math.min(MAX_HEIGHT, HEADER_HEIGHT + count * ROW_HEIGHT + 2) }}
      className="overflow-auto rounded-md border border-line"
    >
      <div className="min-w-[58rem]">
        <div role="rowgroup" className="sticky top-0 z-10 border-b border-line bg-subtle">
          <div role="row" aria-rowindex={1} className={`grid ${COLUMNS} gap-3 px-3 py-2 text-xs font-medium text-muted`}>
            <span role="columnheader">Id</span>
            <span role="columnheader">Type</span>
            <span role="columnheader">Source</span>
            <span role="columnheader">Subject</span>
            <span role="columnheader">Ordering key</span>
            <span role="columnheader" className="text-right">Size</span>
            <span role="columnheader">Received</span>
          </div>
        </div>
        <div role="rowgroup" className="relative" style={{ height: virtualizer.getTotalSize() }}>
          {items.map((item) => {
            const m = rows[item.index];
            return (
              <div
                key={m ? m.id : "loader"}
                role="row"
                aria-rowindex={item.index + 2}
                data-testid={m ? "history-row" : undefined}
                className={`absolute left-0 grid w-full ${COLUMNS} items-center gap-3 border-b border-line px-3 text-sm`}
                style={{ height: item.size, transform: `translateY(${item.start}px)` }}
              >
                {m ? (
                  <>
                    <span role="cell" className="flex min-w-0 items-center gap-1.5">
                      <MessageIdLink id={m.id} />
                      {m.replayOf && <ReplayOfBadge original={m.replayOf} />}
                    </span>
                    <span role="cell" className="truncate" title={m.type}>
                      {m.type}
                    </span>
                    <span role="cell" className="truncate text-muted" title={m.source}>
                      {m.source}
                    </span>
                    <span role="cell" className="truncate text-muted" title={m.subject ?? undefined}>
                      {m.subject ?? "—"}
                    </span>
                    <span role="cell" className="truncate">
                      {m.orderingKey ? <Badge>{m.orderingKey}</Badge> : <span className="text-muted">—</span>}
                    </span>
                    <span role="cell" className="text-right text-xs text-muted tabular-nums">
                      {formatBytes(m.size)}
                    </span>
                    <span role="cell" className="text-xs text-muted tabular-nums">
                      <time dateTime={m.receivedAt}>{formatDateTime(m.receivedAt)}</time>
                    </span>
                  </>
                ) : (
                  <span role="cell" className="col-span-full text-xs text-muted">
                    {loadingMore ? "Loading more…" : "Scroll for more"}
                  </span>
                )}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
