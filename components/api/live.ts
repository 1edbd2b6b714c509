"use client";

import { useCallback, useEffect, useReducer, useRef } from "react";
import { api } from "./client";
import type { LiveFrame, LiveMessage, TopicRecording } from "./types";

// useLiveTail: subscribes to GET /api/live (Server-Sent Events, event name `frame`) for one topic.
// Contract:
// - `messages` holds at most `limit` summaries, newest first, de-duplicated by id.
// - While `paused`, frames keep arriving but are held back; `held` counts them, and resuming shows them.
// - `dropped` is the running total of summaries the server said it dropped to keep up.
// - `status` is "connecting" until the stream opens, "open" while it is, "reconnecting" while the browser
//   retries, and "closed" when the browser gave up (for example the session expired); `reconnect()` retries.
// - `recording` is the topic's latest recording state from the server's `status` events (null until one
//   arrives or when the server does not record the topic), so "no traffic" and "history is behind" differ.

export type LiveStatus = "connecting" | "open" | "reconnecting" | "closed";

type State = {
  status: LiveStatus;
  messages: LiveMessage[];
  held: LiveMessage[];
  dropped: number;
  frames: number;
  recording: TopicRecording | null;
};

type Action =
  | { kind: "status"; status: LiveStatus }
  | { kind: "frame"; frame: LiveFrame; paused: boolean; limit: number }
  | { kind: "flush"; limit: number }
  | { kind: "clear" }
  | { kind: "recording"; recording: TopicRecording | null };

const initial: State = { status: "connecting", messages: [], held: [], dropped: 0, frames: 0, recording: null };

function newestFirst(batch: LiveMessage[]): LiveMessage[] {
  return [...batch].reverse();
}

function merge(front: LiveMessage[], rest: LiveMessage[], limit: number): LiveMessage[] {
  const seen = new Set<string>();
  const out: LiveMessage[] = [];
  for (const m of [...front, ...rest]) {
    if (seen.has(m.id)) continue;
    seen.add(m.id);
    out.push(m);
    if (out.length >= limit) break;
  }
  return out;
}

function reduce(state: State, action: Action): State {
  switch (action.kind) {
    case "status":
      return state.status === action.status ? state : { ...state, status: action.status };
    case "frame": {
      const incoming = newestFirst(action.frame.messages);
      const dropped = state.dropped + (action.frame.dropped || 0);
      const frames = state.frames + 1;
      if (action.paused) {
        return { ...state, held: merge(incoming, state.held, action.limit), dropped, frames };
      }
      return { ...state, messages: merge(incoming, state.messages, action.limit), dropped, frames };
    }
    case "flush":
      return { ...state, messages: merge(state.held, state.messages, action.limit), held: [] };
    case "clear":
      return { ...state, messages: [], held: [] };
    case "recording":
      return { ...state, recording: action.recording };
  }
}

export function useLiveTail(options: { topic: string; paused: boolean; limit?: number; onFrame?: (f: LiveFrame) => void }) {
  const { topic, paused, limit = 200, onFrame } = options;
  const [state, dispatch] = useReducer(reduce, initial);
  const [attempt, retry] = useReducer((n: number) => n + 1, 0);
  const pausedRef = useRef(paused);
  const onFrameRef = useRef(onFrame);

  useEffect(() => {
    onFrameRef.current = onFrame;
  }, [onFrame]);

  useEffect(() => {
    pausedRef.current = paused;
    if (!paused) dispatch({ kind: "flush", limit });
  }, [paused, limit]);

  useEffect(() => {
    dispatch({ kind: "status", status: "connecting" });
    const source = new EventSource(api.liveUrl({ topic }));
    source.onopen = () => dispatch({ kind: "status", status: "open" });
    source.onerror = () => {
      dispatch({ kind: "status", status: source.readyState === EventSource.CLOSED ? "closed" : "reconnecting" });
    };
    source.addEventListener("frame", (event) => {
      let frame: LiveFrame;
      try {
        frame = JSON.parse((event as MessageEvent<string>).data) as LiveFrame;
      } catch {
        return; // a malformed frame is skipped, the stream goes on
      }
      if (!Array.isArray(frame.messages)) return;
      dispatch({ kind: "frame", frame, paused: pausedRef.current, limit });
      onFrameRef.current?.(frame);
    });
    source.addEventListener("status", (event) => {
      try {
        dispatch({ kind: "recording", recording: JSON.parse((event as MessageEvent<string>).data) as TopicRecording | null });
      } catch {
        // a malformed status is skipped
      }
    });
    return () => source.close();
  }, [topic, limit, attempt]);

  const clear = useCallback(() => dispatch({ kind: "clear" }), []);
  return { ...state, reconnect: retry, clear };
}
