import { errorMessage } from "../api/errors";
import type { ResendResult, StalledKeySummary } from "../api/types";

// What a Resume or Discard of one stalled key did, reduced to what the board shows: a count and, when the
// resend stopped, the one message it stopped at, never the per-message list of a key with hundreds waiting.

export type StallOutcome =
  | { action: "resume"; ok: true; published: number; total: number; stoppedAt: null }
  /** The resend failed at `stoppedAt`; it and the messages behind it wait again (the entry is "failed"). */
  | { action: "resume"; ok: false; published: number; total: number; stoppedAt: ResendResult }
  | { action: "discard"; ok: true; discarded: number }
  /** The request itself failed (conflict, network, …): nothing changed on our side. */
  | { action: "resume" | "discard"; ok: false; error: string; stoppedAt?: undefined };

/**
 * The outcome of a Resume from its per-message results. `waiting` is how many messages the entry had waiting
 * when it was pressed: the results stop at the first failure, so the total is the larger of the two (messages
 * appended during the resend are resent too and counted in the results).
 */
export function resumeOutcome(results: readonly ResendResult[], waiting: number): StallOutcome {
  const published = results.filter((r) => r.status === "published").length;
  const failed = results.find((r) => r.status === "failed");
  const total = Math.max(waiting, results.length);
  return failed
    ? { action: "resume", ok: false, published, total, stoppedAt: failed }
    : { action: "resume", ok: true, published, total: results.length, stoppedAt: null };
}

export function requestFailed(action: "resume" | "discard", error: unknown): StallOutcome {
  return { action, ok: false, error: errorMessage(error) };
}

const messages = (n: number) => `${n.toLocaleString("en")} ${n === 1 ? "message" : "messages"}`;

/** One sentence, without the key (the card names it). */
export function describeOutcome(outcome: StallOutcome): string {
  if ("error" in outcome) return `${outcome.action === "resume" ? "Resume" : "Discard"} failed: ${outcome.error}`;
  if (outcome.action === "discard") return `Discarded ${messages(outcome.discarded)}.`;
  if (outcome.ok) return `Resumed: ${outcome.published.toLocaleString("en")} of ${messages(outcome.total)} published.`;
  const at = outcome.stoppedAt;
  return (
    `Resume stopped at #${at.seq} (${at.id}): ${at.error ?? "send failed"}. ` +
    `${outcome.published.toLocaleString("en")} of ${messages(outcome.total)} published; the rest wait.`
  );
}

/** The same sentence with the key and topic, for a toast (which stands apart from the card). */
export function describeOutcomeFor(entry: Pick<StalledKeySummary, "orderingKey" | "topic">, outcome: StallOutcome): string {
  return `Key ${entry.orderingKey} on ${entry.topic}: ${describeOutcome(outcome)}`;
}

/** The entry as the outcome left it, until the next poll says otherwise. */
export function afterOutcome(entry: StalledKeySummary, outcome: StallOutcome): StalledKeySummary {
  if ("error" in outcome) return entry;
  if (outcome.action === "discard") return { ...entry, status: "discarded", waitingCount: 0, messages: [] };
  if (outcome.ok) return { ...entry, status: "resumed", waitingCount: 0, messages: [] };
  const at = outcome.stoppedAt;
  return {
    ...entry,
    status: "failed",
    waitingCount: outcome.total - outcome.published,
    messages: entry.messages.filter((m) => m.seq >= at.seq).map((m) => (m.seq === at.seq ? { ...m, status: "failed", error: at.error ?? null } : m)),
  };
}
