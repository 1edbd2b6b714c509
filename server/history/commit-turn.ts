/**
 * The commit order of one topic's batches, with their transactions overlapped.
 *
 * Each batch a TopicWatch cuts gets a CommitTurn that knows the turn of the batch cut before it. A batch's
 * transaction (writer.ts) asks for the topic lock (topic_stats row) only once the previous batch's current
 * transaction holds that lock — so Postgres grants it right after the previous one ends, with no round trip
 * lost in between — and commits only if the previous batch's transaction committed. If that one rolled back
 * (it will be retried), this one rolls back too and waits for the previous batch's next transaction. Hence:
 * - the batches of a topic commit in the order they were cut, so their ingest_seq values (taken after the
 *   lock) follow delivery order, also when a write fails and is retried;
 * - two transactions of a topic overlap: the next one's BEGIN, lock request and COPY data are already on the
 *   wire while the previous one commits;
 * - the check "the previous one committed" can run on the server (mustFollow: the previous transaction's id,
 *   whose status Postgres knows once the lock is granted), so a batch's COMMIT goes out with its data.
 */

type Deferred<T> = { promise: Promise<T>; resolve: (value: T) => void; settled: boolean };

/** A promise with its resolve; resolving twice does nothing. */
function deferred<T>(): Deferred<T> {
  let settle!: (value: T) => void;
  const promise = new Promise<T>((r) => (settle = r));
  const d: Deferred<T> = {
    promise,
    settled: false,
    resolve(value) {
      if (d.settled) return;
      d.settled = true;
      settle(value);
    },
  };
  return d;
}

/** One transaction of a batch, as the next batch sees it. */
interface Attempt {
  /** Resolved once the transaction holds the topic lock. */
  locked: Deferred<void>;
  /** Resolved when the transaction ended: true = committed. */
  ended: Deferred<boolean>;
  /** Its server transaction id (pg_current_xact_id), when it told it (before taking the lock). */
  xid?: string;
}

/** What a transaction needs from its turn (writer.ts calls these around BEGIN, the lock and COMMIT). */
export interface TransactionTurn {
  /** Resolves when this transaction may ask for the topic lock, with what to check before COMMIT; undefined if `signal` aborted. */
  ready(signal: AbortSignal): Promise<Ticket | undefined>;
  /** This transaction's server id (pg_current_xact_id): the next batch can then check in SQL that it committed. */
  began(xid: string): void;
  /** This transaction now holds the topic lock. */
  locked(): void;
  /** Whether this transaction may commit (false: the previous batch's transaction rolled back, so roll back too). */
  mayCommit(ticket: Ticket): Promise<boolean>;
  /** This transaction ended (committed or rolled back). */
  ended(committed: boolean): void;
}

/** The previous batch's transaction this one overlaps with; null when the previous batch is done. */
export type Ticket = { previous: Attempt | null };

/**
 * What a transaction holding `ticket` must check before it commits: nothing (null: no previous batch to follow),
 * that the server transaction with this id committed (a string), or, when that id is unknown (undefined), the
 * previous batch's outcome as the client learns it (mayCommit).
 */
export function mustFollow(ticket: Ticket): string | null | undefined {
  return ticket.previous === null ? null : ticket.previous.xid;
}

export class CommitTurn implements TransactionTurn {
  readonly #previous: CommitTurn | undefined;
  #attempt: Attempt = { locked: deferred(), ended: deferred() };
  /** Resolved once this batch committed or gave up: batches after it no longer wait for it. */
  readonly #done = deferred<void>();

  constructor(previous?: CommitTurn) {
    // A chain longer than one link is never needed: a batch waits only for the one cut before it.
    this.#previous = previous !== undefined && !previous.#done.settled ? previous : undefined;
  }

  async ready(signal: AbortSignal): Promise<Ticket | undefined> {
    const previous = this.#previous;
    if (previous === undefined || previous.#done.settled) return { previous: null };
    if (signal.aborted) return undefined;
    let onAbort!: () => void;
    const aborted = new Promise<"aborted">((resolve) => (onAbort = () => resolve("aborted")));
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        const attempt = previous.#attempt;
        if (attempt.locked.settled) return { previous: attempt };
        const next = await Promise.race([
          previous.#done.promise.then(() => "done" as const),
          attempt.locked.promise.then(() => "locked" as const),
          attempt.ended.promise.then(() => "ended" as const),
          aborted,
        ]);
        if (next === "aborted") return undefined;
        if (next === "done") return { previous: null };
        if (next === "locked") return { previous: attempt };
        // That transaction ended before taking the lock (it failed early): wait for its next one.
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  began(xid: string): void {
    this.#attempt.xid = xid;
  }

  locked(): void {
    this.#attempt.locked.resolve();
  }

  async mayCommit(ticket: Ticket): Promise<boolean> {
    return ticket.previous === null ? true : ticket.previous.ended.promise;
  }

  ended(committed: boolean): void {
    const attempt = this.#attempt;
    if (committed) {
      attempt.locked.resolve();
      attempt.ended.resolve(true);
      this.#done.resolve();
    } else {
      this.#attempt = { locked: deferred(), ended: deferred() };
      attempt.ended.resolve(false);
    }
  }

  /** This batch will not be written by this watch (given back): batches after it stop waiting for it. */
  abandon(): void {
    this.#done.resolve();
    this.#attempt.ended.resolve(false);
  }
}
