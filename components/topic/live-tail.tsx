"use client";

import { useMemo, useState } from "react";
import { useLiveTail, type LiveStatus } from "../api/live";
import type { LiveFrame } from "../api/types";
import { Badge, type BadgeTone } from "../ui/badge";
import { Button } from "../ui/button";
import { controlBaseClass } from "../ui/field";
import { formatClock } from "../ui/format";
import { Panel } from "../ui/panel";
import { EmptyState } from "../ui/states";
import { MessageIdLink } from "./message-id-link";
import { ReplayOfBadge } from "./replay-of-badge";
import { liveMatcher } from "./live-filter";

const statusView: Record<LiveStatus, { tone: BadgeTone; text: string }> = {
  connecting: { tone: "neutral", text: "connecting" },
  open: { tone: "ok", text: "live" },
  reconnecting: { tone: "warn", text: "reconnecting" },
  closed: { tone: "danger", text: "disconnected" },
};

/**
 * The newest messages of one topic as they are recorded (SSE /api/live). Pausing holds new messages
 * back without dropping the connection; the filter narrows what is shown, in the history's filter language
 * (live-filter.ts, client side). While it runs, its rows' links are out of the Tab order (rows come and go
 * under the keyboard; Tab moves on to the rest of the page); paused, every link is reachable. On narrow
 * screens a row is two lines (time and id, then type and badges), so nothing overlaps.
 */
export function LiveTail({ topic, onFrame }: { topic: string; onFrame?: (frame: LiveFrame) => void }) {
  const [paused, setPaused] = useState(false);
  const [filter, setFilter] = useState("");
  const live = useLiveTail({ topic, paused, onFrame });
  const matcher = useMemo(() => liveMatcher(filter), [filter]);
  const visible = useMemo(() => live.messages.filter(matcher.test), [live.messages, matcher]);
  const status = statusView[live.status];
  const linkTabIndex = paused ? undefined : -1;
  // Connected, but the server says history is behind or failing: frames stopping is not "no traffic".
  const lagging = live.status === "open" && live.recording !== null && live.recording.state !== "ok";
  const badge = paused
    ? { tone: "warn" as const, text: "paused" }
    : lagging
      ? { tone: "warn" as const, text: live.recording!.state === "failing" ? "live · recording failing" : "live · recording behind" }
      : status;

  return (
    <Panel
      title={
        <span className="flex items-center gap-2">
          Live tail{" "}
          <span data-testid="live-status" aria-live="polite">
            <Badge tone={badge.tone}>{badge.text}</Badge>
          </span>
        </span>
      }
      actions={
        <>
          <input
            type="search"
            aria-label="Filter live messages"
            aria-invalid={matcher.error !== null}
            title={matcher.error ?? "The history's filter language, e.g. type = order.* data.total > 100"}
            placeholder="type = order.*  data.total > 100"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
            className={`${controlBaseClass} w-40 py-1 text-xs`}
          />
          <Button size="sm" aria-pressed={paused} onClick={() => setPaused((p) => !p)}>
            {paused ? `Resume${live.held.length ? ` (${live.held.length} new)` : ""}` : "Pause"}
          </Button>
          <Button size="sm" variant="ghost" onClick={live.clear} disabled={live.messages.length === 0}>
            Clear
          </Button>
        </>
      }
    >
      {live.status === "closed" && (
        <div role="alert" className="mb-3 flex items-center justify-between gap-2 rounded-md bg-danger-soft px-3 py-2 text-sm text-danger">
          The live stream closed (the session may have expired or the server stopped).
          <Button size="sm" onClick={live.reconnect}>
            Reconnect
          </Button>
        </div>
      )}
      {matcher.error && (
        <p role="alert" className="mb-2 text-xs text-danger">
          Filter: {matcher.error}
        </p>
      )}
      {live.dropped > 0 && (
        <p className="mb-2 text-xs text-warn">
          The server skipped {live.dropped} {live.dropped === 1 ? "message" : "messages"} to keep up; the history has them all.
        </p>
      )}
      {visible.length === 0 ? (
        <EmptyState title={live.messages.length === 0 ? (lagging ? "History is behind: no message recorded lately" : "Waiting for messages…") : "No live message matches the filter"}>
          {live.messages.length === 0 ? (lagging ? live.recording!.reason : "New messages on this topic appear here as they are recorded.") : null}
        </EmptyState>
      ) : (
        <ol aria-label="Live messages" aria-live="off" className="max-h-80 overflow-y-auto rounded-md border border-line">
          {visible.map((m) => (
            <li
              key={m.id}
              data-testid="live-message"
              className="grid grid-cols-[auto_minmax(0,1fr)] items-center gap-x-3 gap-y-1 border-b border-line px-3 py-1.5 text-sm last:border-0 sm:grid-cols-[5.5rem_minmax(0,1fr)_minmax(0,14rem)]"
            >
              <time dateTime={m.receivedAt} className="font-mono text-xs text-muted tabular-nums">
                {formatClock(m.receivedAt)}
              </time>
              <MessageIdLink id={m.id} tabIndex={linkTabIndex} className="justify-self-end sm:order-last" />
              <span className="col-span-2 flex min-w-0 flex-wrap items-center gap-x-2 gap-y-1 sm:col-span-1">
                <span data-testid="live-type" className="max-w-full min-w-0 truncate">
                  {m.type}
                </span>
                {m.orderingKey && (
                  <Badge className="max-w-full min-w-0">
                    <span className="truncate">key {m.orderingKey}</span>
                  </Badge>
                )}
                {m.replayOf && <ReplayOfBadge original={m.replayOf} tabIndex={linkTabIndex} />}
              </span>
            </li>
          ))}
        </ol>
      )}
    </Panel>
  );
}
