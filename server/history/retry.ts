import { backoffDelay } from "@whisper/core";

/** The backoff of the recorder's retries: a failing insert, a subscription being reopened. */
export interface RetryTiming {
  initialDelayMs: number;
  maxDelayMs: number;
}

/** The wait before retry number `attempt` (1-based): the core's exponential backoff with jitter. */
export function retryDelay(attempt: number, { initialDelayMs, maxDelayMs }: RetryTiming): number {
  return backoffDelay(Math.min(attempt, 30), initialDelayMs, maxDelayMs);
}

/**
 * Resolves after `ms`, or as soon as `signal` aborts. Never rejects, never keeps the process alive, and leaves
 * no listener on `signal` once settled.
 */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref?.();
    signal.addEventListener("abort", done, { once: true });
  });
}
