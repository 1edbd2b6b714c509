import { defaults } from "../defaults.js";
import { InvalidOptionsError } from "../errors.js";
import { backoffDelay, sleep } from "../timing.js";
import type { Middleware } from "./types.js";

export interface RetryOptions {
  /** Handler attempts in this process, including the first. */
  attempts?: number;
  /** Delay before attempt n+1 (ms); default exponential backoff with jitter. */
  backoff?: (attempt: number) => number;
}

/**
 * retry({ attempts, backoff }): runs a failing handler again in-process, up to `attempts` times, waiting
 * `backoff(attempt)` between tries; the last error propagates (so subAck nacks it). Guarantee: unchanged
 * (at-least-once stays at-least-once) but a handler may run several times for one delivery, so handlers must
 * be idempotent. The message stays unsettled while retrying: keep the total wait below the ack deadline.
 */
export function retry({
  attempts = defaults.middleware.retryAttempts,
  backoff = (n) => backoffDelay(n, defaults.middleware.retryInitialDelayMs, defaults.middleware.retryMaxDelayMs),
}: RetryOptions = {}): Middleware {
  if (!Number.isInteger(attempts) || attempts < 1) throw new InvalidOptionsError("retry(): attempts must be an integer ≥ 1");
  return {
    name: "retry",
    receive: (next) => async (message) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await next(message);
        } catch (error) {
          if (attempt >= attempts || message.settlement !== "pending") throw error;
          await sleep(backoff(attempt));
        }
      }
    },
  };
}
