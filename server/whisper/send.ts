import type { DriverTopic } from "./driver.js";
import { PartialSendError, PublishError, WhisperError } from "./errors.js";
import type { Pending } from "./ordering/key-queues.js";
import { withRetries, type RetryPolicy } from "./timing.js";

/** An ordered batch that failed for good: the error, and the messages from the failed one on, in order. */
export interface OrderedFailure {
  readonly error: unknown;
  readonly rest: Pending[];
}

/**
 * Sends one batch of a topic through its driver until each message is settled. Contract:
 * - a message resolves as soon as the driver reports it sent; only the failed ones are sent again, with
 *   backoff, by isRetryable() of each one's own error (a PartialSendError tells them apart);
 * - unordered: a message that failed for good rejects with its own (coded) error;
 * - ordered (one key): the first failure decides for every message behind it, which is never resolved before
 *   it, sent or not; if it fails for good, its error and the messages from it on are returned for the topic
 *   to pause the key with. Earlier messages stay resolved.
 */
export async function sendSettling(
  driver: DriverTopic,
  batch: Pending[],
  { ordered, retry, topic }: { ordered: boolean; retry: RetryPolicy; topic: string },
): Promise<OrderedFailure | undefined> {
  const isRetryable = (error: unknown) => driver.isRetryable(error);
  const coded = (error: unknown) => codedSendError(error, topic, isRetryable(error));
  let remaining = batch;
  const lastError = new Map<Pending, unknown>();
  try {
    await withRetries(
      async () => {
        const failures = await attempt(driver, remaining);
        if (ordered) {
          const first = failures.size === 0 ? remaining.length : Math.min(...failures.keys());
          for (let i = 0; i < first; i++) remaining[i]!.resolve(remaining[i]!.message.id);
          remaining = remaining.slice(first);
          if (remaining.length > 0) throw failures.get(first);
          return;
        }
        const retry: Pending[] = [];
        let retryError: unknown;
        remaining.forEach((p, i) => {
          if (!failures.has(i)) return p.resolve(p.message.id);
          const error = failures.get(i);
          if (!isRetryable(error)) return p.reject(coded(error));
          retry.push(p);
          lastError.set(p, error);
          if (retry.length === 1 || retryAfterMs(error) > retryAfterMs(retryError)) retryError = error;
        });
        remaining = retry;
        if (retry.length > 0) throw retryError;
      },
      retry,
      isRetryable,
      { hintMs: retryAfterMs },
    );
    return undefined;
  } catch (error) {
    if (ordered) return { error: coded(error), rest: remaining };
    for (const p of remaining) p.reject(coded(lastError.get(p) ?? error));
    return undefined;
  }
}

/** One driver call for `pending`: maps the index of each message not sent to its error (empty: all sent). */
async function attempt(driver: DriverTopic, pending: Pending[]): Promise<Map<number, unknown>> {
  try {
    await driver.sendBatch(
      pending.map((p) => p.message),
      { confirm: pending.some((p) => p.confirm) },
    );
    return new Map();
  } catch (error) {
    if (error instanceof PartialSendError) return new Map(error.failures);
    return new Map(pending.map((_, i) => [i, error]));
  }
}

/** A send error as publishers see it: a WhisperError as is, anything else wrapped in a coded PublishError. */
function codedSendError(error: unknown, topic: string, retryable: boolean): unknown {
  if (error instanceof WhisperError) return error;
  return new PublishError(`publish to ${topic} failed: ${(error as Error)?.message ?? error}`, retryable, { cause: error });
}

/** The broker's own hint of when to send again (HTTP Retry-After), 0 when it gave none. */
function retryAfterMs(error: unknown): number {
  return error instanceof PublishError ? (error.retryAfterMs ?? 0) : 0;
}
