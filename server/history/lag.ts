import type { TopicRecording } from "@/server/services/types";
import type { RecorderTopicStats } from "./topic-watch";

/** What the broker says about the recorder's subscription of a topic; null where it cannot tell. */
export interface BrokerFigures {
  /** Messages waiting at the broker, not yet delivered to the recorder. */
  pending: number | null;
  /** Delivered to the recorder (any replica) and not yet acked. */
  ackPending: number | null;
  redelivered: number | null;
}

/** When recording counts as behind: WHISPER_RECORDER_LAG_SECONDS / WHISPER_RECORDER_LAG_MESSAGES. */
export interface LagThresholds {
  seconds: number;
  messages: number;
}

export interface LagSample {
  stats: RecorderTopicStats[];
  broker: ReadonlyMap<string, BrokerFigures>;
}

interface TopicHistory {
  sampledAt: number;
  acked: number;
  /** Recent acks per second (exponentially smoothed over samples). */
  rate: number;
  /** Since when messages have been waiting with no batch committed. */
  stalledSince: number | undefined;
  /** The last sample that saw nothing behind: no message waiting now can be older than that. */
  clearAt: number;
}

const RATE_SMOOTHING = 0.3;

/**
 * How far behind the recorder is, per topic, from periodic samples of its statistics and of the broker.
 *
 * Contract:
 * - update() takes one sample; snapshot() returns the figures of the last one (never waits, never throws);
 * - behindMessages = waiting at the broker + max(held by this recorder, unacked at the broker);
 * - behindSeconds estimates the age of the oldest message not yet in history: the oldest held delivery's
 *   wait, the time messages have waited with no commit at all, or (while batches commit) the backlog divided
 *   by the recent recording rate, whichever is largest; the two estimates never exceed the time since a sample
 *   last saw nothing behind;
 * - a topic is "failing" while its inserts or its subscription fail right now, "behind" when either figure
 *   reaches its threshold, else "ok"; `reason` then says so in one sentence, with the last error.
 */
export class LagMonitor {
  readonly #thresholds: LagThresholds;
  readonly #history = new Map<string, TopicHistory>();
  #snapshot: TopicRecording[] = [];

  constructor(thresholds: LagThresholds) {
    this.#thresholds = thresholds;
  }

  snapshot(): TopicRecording[] {
    return this.#snapshot;
  }

  of(topic: string): TopicRecording | undefined {
    return this.#snapshot.find((r) => r.topic === topic);
  }

  update({ stats, broker }: LagSample, now = Date.now()): TopicRecording[] {
    const seen = new Set<string>();
    this.#snapshot = stats.map((s) => {
      seen.add(s.topic);
      return this.#assess(s, broker.get(s.topic), now);
    });
    for (const topic of this.#history.keys()) if (!seen.has(topic)) this.#history.delete(topic);
    return this.#snapshot;
  }

  #assess(s: RecorderTopicStats, figures: BrokerFigures | undefined, now: number): TopicRecording {
    const behindMessages = (figures?.pending ?? 0) + Math.max(s.held, figures?.ackPending ?? 0);
    const previous = this.#history.get(s.topic);
    const elapsed = previous ? Math.max(1, now - previous.sampledAt) / 1000 : 0;
    const progressed = previous ? s.acked - previous.acked : 0;
    const rate = previous
      ? previous.rate * (1 - RATE_SMOOTHING) + (progressed / elapsed) * RATE_SMOOTHING
      : 0;
    const stalledSince = behindMessages > 0 && previous && progressed === 0 ? (previous.stalledSince ?? previous.sampledAt) : undefined;
    const clearAt = behindMessages === 0 ? now : (previous?.clearAt ?? Date.parse(s.startedAt));
    this.#history.set(s.topic, { sampledAt: now, acked: s.acked, rate, stalledSince, clearAt });

    const heldMs = s.oldestHeldAt ? now - Date.parse(s.oldestHeldAt) : 0;
    const stalledMs = stalledSince === undefined ? 0 : now - stalledSince;
    // Draining at the recent rate: only while batches commit (a stalled recorder is measured by stalledMs).
    const drainMs = behindMessages > 0 && progressed > 0 && rate > 0 ? (behindMessages / rate) * 1000 : 0;
    // Estimates never exceed the time since a sample last saw nothing behind.
    const estimateMs = Math.min(Math.max(stalledMs, drainMs), now - clearAt);
    const behindSeconds = Math.max(0, Math.round(Math.max(heldMs, estimateMs) / 100) / 10);

    const state: TopicRecording["state"] = s.failing
      ? "failing"
      : behindSeconds >= this.#thresholds.seconds || behindMessages >= this.#thresholds.messages
        ? "behind"
        : "ok";
    return {
      topic: s.topic,
      state,
      behindMessages,
      behindSeconds,
      recorded: s.recorded,
      redelivered: figures?.redelivered ?? s.duplicates,
      lastError: s.lastError,
      lastErrorAt: s.lastErrorAt,
      reason: state === "ok" ? null : describeLag(s.topic, state, behindMessages, behindSeconds, s.failing ?? s.lastError),
    };
  }
}

/** "recording of demo.clicks is 1,505 messages / 4 min behind: <error>" */
export function describeLag(topic: string, state: TopicRecording["state"], messages: number, seconds: number, error: string | null): string {
  const figures = `${messages.toLocaleString("en-US")} ${messages === 1 ? "message" : "messages"} / ${formatDuration(seconds)} behind`;
  const head = state === "failing" ? `recording of ${topic} is failing (${figures})` : `recording of ${topic} is ${figures}`;
  return error ? `${head}: ${error}` : head;
}

export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}
