/**
 * The history recorder's own errors, each with a stable code. (Problems of a message history cannot store are
 * not errors: they are the StorableProblemCode values of storable.ts.)
 */

/**
 * A batch's transaction rolled back because the transaction of the batch cut before it (same topic) rolled
 * back: committing would put this batch's ingest sequence values before that batch's. Not a failure: the
 * batch is written again right after the previous one (commit-turn.ts).
 */
export class TurnLostError extends Error {
  readonly code = "ERR_HISTORY_TURN_LOST";
  constructor() {
    super("the previous batch of this topic rolled back; this batch rolls back and follows it");
    this.name = "TurnLostError";
  }
}

/** A write stopped waiting for its turn because it was aborted (the watch is stopping). */
export class WriteAbortedError extends Error {
  readonly code = "ERR_HISTORY_WRITE_ABORTED";
  constructor() {
    super("the write was aborted before its transaction started");
    this.name = "WriteAbortedError";
  }
}
