import type pg from "pg";
import { copyText, type MessageRow } from "./rows";
import type { CommitTurn } from "./commit-turn";
import { TurnLostError, WriteAbortedError } from "./errors";
import { pause, retryDelay, type RetryTiming } from "./retry";
import { insertBatch, insertEach, insertPrepared, isDataError, type InsertMethod, type PreparedRows } from "./writer";

export interface BatchWriterOptions {
  pool: pg.Pool;
  method: InsertMethod;
  /** Inserts in flight at once, across every topic (each holds one pooled connection). */
  maxConcurrentWrites: number;
  /** A statement of an insert running longer than this is cancelled and the batch retried (a lock, a hung server). */
  statementTimeoutMs: number;
  retry: RetryTiming;
}

/**
 * What a committed batch did: rows that were new ("all": every row of a prepared batch, none of them built), and
 * rows Postgres refuses for their content.
 */
export interface WriteOutcome {
  inserted: MessageRow[] | "all";
  rejected: Array<{ row: MessageRow; error: unknown }>;
}

/**
 * Writes batches of rows into `messages`, retrying each until it commits.
 *
 * Contract:
 * - write() resolves with the outcome once the batch committed, or with undefined if `signal` aborted before
 *   it did (then nothing of it was written by this call); it never rejects;
 * - a write given a `turn` commits only after the write of the batch cut before it (commit-turn.ts): a topic's
 *   batches commit in the order they were cut, so their ingest sequence values follow delivery order, while
 *   their transactions overlap; the COPY text is built before waiting;
 * - at most maxConcurrentWrites inserts run at once; waiting for a slot, a connection or a retry ends as soon
 *   as `signal` aborts, and leaves no listener on it;
 * - a batch that fails with a data error is written row by row: refused rows come back as `rejected` (they
 *   could never be written), the rest are inserted;
 * - any other failure (connection, timeout, lock) is reported to `onFailedAttempt` and retried with the
 *   core's backoff; a connection that failed is never handed back to the pool for reuse.
 */
export class BatchWriter {
  readonly #options: BatchWriterOptions;
  readonly #slots: Semaphore;

  constructor(options: BatchWriterOptions) {
    this.#options = options;
    this.#slots = new Semaphore(options.maxConcurrentWrites);
  }

  async write(
    batch: MessageRow[] | PreparedRows,
    signal: AbortSignal,
    onFailedAttempt: (error: unknown) => void,
    turn?: CommitTurn,
  ): Promise<WriteOutcome | undefined> {
    const { pool, method, statementTimeoutMs, retry } = this.#options;
    const prepared = Array.isArray(batch) ? undefined : (batch as PreparedRows);
    let built: MessageRow[] | undefined = prepared ? undefined : (batch as MessageRow[]);
    const rows = () => (built ??= prepared!.rows());
    const text = method === "unnest" ? undefined : prepared ? prepared.text : copyText(rows());
    const options = { statementTimeoutMs, text, turn, signal };
    if (!(await this.#slots.acquire(signal))) {
      turn?.abandon();
      return undefined;
    }
    try {
      for (let attempt = 1; !signal.aborted; ) {
        let client: pg.PoolClient | undefined;
        try {
          client = await connectUnlessAborted(pool, signal);
          if (client === undefined) break;
          let outcome: WriteOutcome;
          try {
            const inserted = prepared ? await insertPrepared(client, prepared, method, options) : await insertBatch(client, rows(), method, options);
            outcome = { inserted, rejected: [] };
          } catch (error) {
            if (!isDataError(error)) throw error;
            outcome = await insertEach(client, rows(), options);
          }
          client.release();
          return outcome;
        } catch (error) {
          // A lost turn or an abort before BEGIN leaves the connection clean; any other failure discards it.
          const clean = error instanceof TurnLostError || error instanceof WriteAbortedError;
          client?.release(clean ? undefined : error instanceof Error ? error : true);
          if (signal.aborted) break;
          // Not a failure: the previous batch rolled back; follow it as soon as it commits.
          if (error instanceof TurnLostError) continue;
          onFailedAttempt(error);
          await pause(retryDelay(attempt++, retry), signal);
        }
      }
      turn?.abandon();
      return undefined;
    } finally {
      this.#slots.release();
    }
  }
}

/** A counting semaphore, FIFO. acquire() resolves true with a slot, or false (no slot) if `signal` aborts first. */
class Semaphore {
  #free: number;
  readonly #waiting: Array<() => boolean> = [];

  constructor(slots: number) {
    this.#free = slots;
  }

  acquire(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      let settled = false;
      const onAbort = () => {
        settled = true;
        resolve(false);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      // Called by release(): takes the slot unless this waiter already gave up (then the slot goes on).
      this.#waiting.push(() => {
        signal.removeEventListener("abort", onAbort);
        if (settled) return false;
        settled = true;
        resolve(true);
        return true;
      });
    });
  }

  release(): void {
    while (this.#waiting.length > 0) if (this.#waiting.shift()!()) return;
    this.#free++;
  }
}

/**
 * A pooled connection, or undefined if `signal` aborts first (a connection that arrives later is released
 * at once), so giving up never waits for a database that does not answer.
 */
async function connectUnlessAborted(pool: pg.Pool, signal: AbortSignal): Promise<pg.PoolClient | undefined> {
  const connecting = pool.connect();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const client = await Promise.race([connecting, aborted]);
    if (client === undefined) connecting.then((c) => c.release(), () => {});
    return client;
  } finally {
    signal.removeEventListener("abort", onAbort!);
  }
}
