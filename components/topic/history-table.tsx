"use client";

import { useWindowVirtualizer } from "@tanstack/react-virtual";
import { Link } from "../ui/link";
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type MouseEvent } from "react";
import type { MessageSummary } from "../api/types";
import { Badge } from "../ui/badge";
import { cx } from "../ui/cx";
import { formatClock, formatDateTime } from "../ui/format";
import { AdminOnly } from "../layout/admin-only";
import { HistoryRowDetail } from "./history-row-detail";
import { ReplayButton } from "./replay-button";

// The history list: a table virtualized against the window (the page scrolls, no nested scroll box), whose rows
// expand inline to show the message (the selected one, `msg` in the URL). Keyboard: the list is one Tab stop;
// ArrowUp/ArrowDown/Home/End move between rows, Enter or Space opens and closes a row, Tab then reaches the
// opened row's actions. When the last loaded row comes into view and there is a next keyset page, `onNeedMore`
// is called (the parent guards with `loadingMore`).

const ROW_HEIGHT = 40;
const messageHref = (id: string) => `/messages/${encodeURIComponent(id)}`;
const DETAIL_ESTIMATE = 380;

export function HistoryTable({
  rows,
  hasMore,
  loadingMore,
  onNeedMore,
  selected,
  onSelect,
  showTopic = false,
  focusRequest = 0,
  label = "Message history",
}: {
  rows: MessageSummary[];
  hasMore: boolean;
  loadingMore: boolean;
  onNeedMore: () => void;
  selected: string | null;
  onSelect: (id: string | null) => void;
  /** A topic column (searches across topics). */
  showTopic?: boolean;
  /** Incremented by the parent to move focus to the list (the filter's ArrowDown). */
  focusRequest?: number;
  label?: string;
}) {
  const listRef = useRef<HTMLDivElement>(null);
  const [scrollMargin, setScrollMargin] = useState(0);
  const [active, setActive] = useState(0);
  const focusPending = useRef(false);
  // On a phone: received, type, data and the action; the id, topic and key appear from md up (and in the open row).
  const columns = showTopic
    ? "grid-cols-[5.5rem_minmax(0,1fr)_minmax(0,1fr)_auto] md:grid-cols-[9.5rem_minmax(7rem,1fr)_minmax(6rem,0.8fr)_minmax(7rem,1fr)_minmax(4rem,0.6fr)_minmax(10rem,2fr)_4.5rem]"
    : "grid-cols-[5.5rem_minmax(0,1fr)_minmax(0,1fr)_auto] md:grid-cols-[9.5rem_minmax(7rem,1fr)_minmax(7rem,1fr)_minmax(4rem,0.6fr)_minmax(10rem,2.2fr)_4.5rem]";
  const wide = "hidden md:block";
  const count = hasMore ? rows.length + 1 : rows.length;
  const virtualizer = useWindowVirtualizer({
    count,
    estimateSize: (i) => (rows[i] && rows[i].id === selected ? ROW_HEIGHT + DETAIL_ESTIMATE : ROW_HEIGHT),
    overscan: 8,
    scrollMargin,
    getItemKey: (i) => rows[i]?.id ?? "loader",
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.length ? items[items.length - 1]!.index : -1;
  const activeIndex = Math.min(active, Math.max(0, rows.length - 1));

  // Where the list starts on the page: the virtualizer measures rows from there.
  useLayoutEffect(() => {
    const measure = () => {
      const top = listRef.current ? listRef.current.getBoundingClientRect().top + window.scrollY : 0;
      setScrollMargin((m) => (Math.abs(m - top) > 0.5 ? top : m));
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(document.body);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    if (hasMore && !loadingMore && lastIndex >= rows.length - 1) onNeedMore();
  }, [hasMore, loadingMore, lastIndex, rows.length, onNeedMore]);

  // The selected row is brought into view once when it first appears (a shared link, Back from a message).
  const revealed = useRef<string | null>(null);
  useEffect(() => {
    if (!selected || revealed.current === selected) return;
    const index = rows.findIndex((m) => m.id === selected);
    if (index < 0) return;
    revealed.current = selected;
    setActive(index);
    const row = listRef.current?.querySelector<HTMLElement>(`[data-row-index="${index}"]`);
    const box = row?.getBoundingClientRect();
    if (!box || box.top < 0 || box.bottom > window.innerHeight) virtualizer.scrollToIndex(index, { align: "start" });
  }, [selected, rows, virtualizer]);

  const focusRow = (index: number) => {
    const target = Math.max(0, Math.min(rows.length - 1, index));
    setActive(target);
    focusPending.current = true;
    virtualizer.scrollToIndex(target, { align: "auto" });
  };

  // Only a request made while this list is shown moves focus (not the count it had when the list mounted).
  const handledRequest = useRef(focusRequest);
  useEffect(() => {
    if (focusRequest === handledRequest.current || rows.length === 0) return;
    handledRequest.current = focusRequest;
    focusRow(activeIndex);
  });

  useEffect(() => {
    if (!focusPending.current) return;
    const row = listRef.current?.querySelector<HTMLElement>(`[data-row-index="${activeIndex}"]`);
    if (row) {
      focusPending.current = false;
      row.focus({ preventScroll: true });
    }
  });

  function onRowKey(event: KeyboardEvent<HTMLDivElement>, index: number, id: string) {
    if (event.target !== event.currentTarget) return;
    const moves: Record<string, number> = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: rows.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      if (event.key === "ArrowDown" && index === rows.length - 1 && hasMore) onNeedMore();
      focusRow(moves[event.key]!);
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      onSelect(selected === id ? null : id);
    }
  }

  function onRowClick(event: MouseEvent<HTMLDivElement>, index: number, id: string) {
    // Links and buttons inside the row do their own thing.
    if ((event.target as HTMLElement).closest("a, button")) return;
    setActive(index);
    onSelect(selected === id ? null : id);
  }

  return (
    <div ref={listRef} role="table" aria-label={label} aria-rowcount={hasMore ? -1 : rows.length + 1} className="rounded-md border border-line">
      <div role="rowgroup" className="sticky top-0 z-10 border-b border-line bg-subtle">
        <div role="row" className={`grid ${columns} gap-3 px-3 py-2 text-xs font-medium text-muted`}>
          <span role="columnheader">Received</span>
          <span role="columnheader" className={wide}>
            Id
          </span>
          {showTopic && (
            <span role="columnheader" className={wide}>
              Topic
            </span>
          )}
          <span role="columnheader">Type</span>
          <span role="columnheader" className={wide}>
            Key
          </span>
          <span role="columnheader">Data</span>
          <span role="columnheader">
            <span className="sr-only">Actions</span>
          </span>
        </div>
      </div>
      <div role="rowgroup" className="relative" style={{ height: virtualizer.getTotalSize() }}>
        {items.map((item) => {
          const m = rows[item.index];
          const open = m !== undefined && m.id === selected;
          return (
            <div
              key={item.key}
              role="none"
              data-index={item.index}
              ref={virtualizer.measureElement}
              className="absolute left-0 w-full"
              style={{ transform: `translateY(${item.start - virtualizer.options.scrollMargin}px)` }}
            >
              {m ? (
                <>
                  <div
                    role="row"
                    aria-expanded={open}
                    aria-selected={open}
                    tabIndex={item.index === activeIndex ? 0 : -1}
                    data-testid="history-row"
                    data-row-index={item.index}
                    onKeyDown={(e) => onRowKey(e, item.index, m.id)}
                    onClick={(e) => onRowClick(e, item.index, m.id)}
                    onFocus={() => setActive(item.index)}
                    className={cx(
                      `grid ${columns} h-10 cursor-pointer items-center gap-3 border-b border-line px-3 text-sm hover:bg-subtle`,
                      open && "bg-accent-soft hover:bg-accent-soft",
                    )}
                  >
                    <span role="cell" className="text-xs text-muted tabular-nums">
                      <time dateTime={m.receivedAt} title={formatDateTime(m.receivedAt)}>
                        <span className="md:hidden">{formatClock(m.receivedAt)}</span>
                        <span className="hidden md:inline">{formatDateTime(m.receivedAt)}</span>
                      </time>
                    </span>
                    <span role="cell" className="hidden min-w-0 items-center gap-1.5 md:flex">
                      <Link href={messageHref(m.id)} tabIndex={-1} title={m.id} className="truncate font-mono text-xs text-accent hover:underline">
                        {m.id}
                      </Link>
                      {m.replayOf && (
                        <Link href={messageHref(m.replayOf)} tabIndex={-1} title={`Replay of ${m.replayOf}`} aria-label={`replay of ${m.replayOf}`} className="shrink-0 rounded-full">
                          <Badge tone="accent">replay</Badge>
                        </Link>
                      )}
                    </span>
                    {showTopic && (
                      <span role="cell" className="hidden truncate text-xs md:block" title={m.topic}>
                        {m.topic}
                      </span>
                    )}
                    <span role="cell" className="truncate" title={m.type}>
                      {m.type}
                    </span>
                    <span role="cell" className="hidden truncate md:block">
                      {m.orderingKey ? <Badge>{m.orderingKey}</Badge> : <span className="text-muted">—</span>}
                    </span>
                    <span role="cell" className="truncate font-mono text-xs text-muted" title={m.preview ?? undefined}>
                      {m.preview ?? (m.size > 0 ? `${m.size} bytes` : "—")}
                    </span>
                    <span role="cell" className="text-right">
                      <AdminOnly>
                        <ReplayButton id={m.id} label="Replay…" compact tabIndex={-1} />
                      </AdminOnly>
                    </span>
                  </div>
                  {open && (
                    <div role="row" className="border-b border-line bg-surface">
                      <div role="cell" className="px-3 py-3">
                        <HistoryRowDetail summary={m} onClose={() => onSelect(null)} />
                      </div>
                    </div>
                  )}
                </>
              ) : (
                <div role="row" className="flex h-10 items-center px-3 text-xs text-muted">
                  <span role="cell">{loadingMore ? "Loading more…" : "Scroll for more"}</span>
                </div>
              )}
            </div>
          );
        })}
      </div>
    </div>
  );
}
