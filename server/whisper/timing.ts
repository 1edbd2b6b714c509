/** Resolves after `ms`; the timer never keeps the process alive. Rejects early with the signal's reason if aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    timer.unref?.();
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Exponential backoff with full jitter: attempt 1 waits up to `initialMs`, doubling, capped at `maxMs`. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/** How often and how patiently to retry: attempts (including the first; Infinity = until stopped) and backoff bounds. */
export interface RetryPolicy {
  readonly attempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * The core's one retry loop (topic sends, subscription receives), as go-cloud's retry.Call: runs `call` until
 * it resolves, throws an error `isRetryable` rejects, or `policy.attempts` calls have failed; between calls it
 * waits backoffDelay(), and at least `hintMs(error)` (a broker's retry-after) capped at maxDelayMs. Rejects with
 * the last error, or with the signal's reason once `signal` aborts. `onRetry` hears each error it retries.
 */
export async function withRetries<T>(
  call: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  isRetryable: (error: unknown) => boolean,
  {
    signal,
    hintMs = () => 0,
    onRetry,
  }: { signal?: AbortSignal; hintMs?: (error: unknown) => number; onRetry?: (error: unknown) => void } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (error) {
      if (attempt >= policy.attempts || signal?.aborted || !isRetryable(error)) throw error;
      onRetry?.(error);
      const backoff = backoffDelay(attempt, policy.initialDelayMs, policy.maxDelayMs);
      await sleep(Math.max(backoff, Math.min(hintMs(error), policy.maxDelayMs)), signal);
    }
  }
}
