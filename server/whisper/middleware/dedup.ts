import { defaults } from "../defaults.js";
import { InvalidOptionsError } from "../errors.js";
import type { Middleware } from "./types.js";

export interface DedupOptions {
  /** How long an id is remembered after its message was acked (ms). */
  window?: number;
  /** How many ids are remembered at most; the oldest are forgotten first. */
  maxIds?: number;
}

/**
 * dedup({ window, maxIds }): a message whose id was already acked within the window (and among the last
 * `maxIds` acked) is not handed to the handler again — it is acked at once. A duplicate arriving while the
 * first copy is still being handled waits for it: if the first succeeds the duplicate is acked, if it fails
 * the duplicate is handled. Ids are remembered only once acked, so a failed attempt is never mistaken for a
 * done one. Memory is bounded by both limits. Guarantee: turns at-least-once into effectively-once within the
 * window, for this subscription in this process.
 */
export function dedup({
  window = defaults.middleware.dedupWindowMs,
  maxIds = defaults.middleware.dedupMaxIds,
}: DedupOptions = {}): Middleware {
  if (!(window > 0) || !Number.isInteger(maxIds) || maxIds < 1) {
    throw new InvalidOptionsError("dedup(): window must be > 0 ms and maxIds an integer ≥ 1");
  }
  return {
    name: "dedup",
    receive: (next, { onSettle }) => {
      /** id -> time acked; Map order is ack order, so expiry and eviction trim from the front. */
      const seen = new Map<string, number>();
      const inProgress = new Map<string, Promise<void>>();
      const forgetOld = (now: number) => {
        for (const [id, at] of seen) {
          if (seen.size <= maxIds && now - at < window) break;
          seen.delete(id);
        }
      };
      onSettle((message, outcome) => {
        if (outcome !== "ack") return;
        const now = Date.now();
        seen.delete(message.id);
        seen.set(message.id, now);
        forgetOld(now);
      });
      return async (message) => {
        forgetOld(Date.now());
        for (;;) {
          if (seen.has(message.id)) return message.ack();
          const running = inProgress.get(message.id);
          if (running === undefined) break;
          const firstSucceeded = await running.then(
            () => true,
            () => false,
          );
          if (firstSucceeded) return message.ack();
          // The first copy failed: take over, unless another duplicate already did.
        }
        const attempt: Promise<void> = next(message).finally(() => {
          if (inProgress.get(message.id) === attempt) inProgress.delete(message.id);
        });
        inProgress.set(message.id, attempt);
        await attempt;
      };
    },
  };
}
