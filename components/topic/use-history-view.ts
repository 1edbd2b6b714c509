"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useEffect, useMemo, useState } from "react";
import type { MessageFilter } from "../api/types";
import { parseView, viewQuery, writeView, type HistoryView } from "./history-view-state";

/**
 * The URL the last change asked for, until the router shows it: two changes in quick succession (Enter in the
 * filter, then a range preset) must build on each other, not on the address the router has not updated yet.
 */
let pending: { path: string; search: string; at: number } | null = null;
/** A change the router has not shown after this long is not built on any more (Back, a failed navigation). */
const PENDING_MS = 1_000;

/**
 * The history view of the current URL (history-view-state.ts) and how to change it. What changes the rows (filter,
 * range, start) is pushed, so Back returns to the previous rows; the selection and the side panel are replaced,
 * so Back does not step through every row the reader opened.
 */
export function useHistoryView(topic: string | undefined) {
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const search = params.toString();
  useEffect(() => {
    if (pending && pending.path === pathname && pending.search === (search ? `?${search}` : "")) pending = null;
  }, [pathname, search]);
  const view = useMemo(() => parseView(new URLSearchParams(search)), [search]);
  // "Now" of the view: preset ranges count back from the moment the rows were asked for, so the list does
  // not move under the reader; `refresh` (the "N new — show" bar) takes a new now.
  const rowsKey = JSON.stringify([view.filter, view.range, view.start]);
  const [clock, setClock] = useState<{ key: string; now: number }>(() => ({ key: rowsKey, now: Date.now() }));
  const current = clock.key === rowsKey ? clock : { key: rowsKey, now: Date.now() };
  if (current !== clock) setClock(current);
  const query: MessageFilter = useMemo(() => viewQuery(view, topic, current.now), [view, topic, current.now]);

  const update = useCallback(
    (change: Partial<HistoryView>, how: "push" | "replace") => {
      const fresh = pending && pending.path === pathname && performance.now() - pending.at < PENDING_MS;
      const base = fresh ? pending!.search : window.location.search;
      const next = writeView({ ...parseView(new URLSearchParams(base)), ...change });
      pending = { path: pathname, search: next, at: performance.now() };
      if (how === "push") router.push(`${pathname}${next}`, { scroll: false });
      else router.replace(`${pathname}${next}`, { scroll: false });
    },
    [pathname, router],
  );
  const refresh = useCallback(() => setClock((c) => ({ key: c.key, now: Date.now() })), []);
  return { view, query, now: current.now, update, refresh };
}
