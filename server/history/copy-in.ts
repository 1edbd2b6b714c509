import type pg from "pg";

/** What CopyIn uses of pg's Connection (its typings leave the COPY messages out). */
interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

/** Data per CopyData message: the server buffers one message whole, so a large batch goes in pieces. */
const CHUNK_BYTES = 1 << 20;

/**
 * `COPY … FROM STDIN` (with any statements before it in the same simple query) sent in one go: the query, the
 * data and CopyDone are written at once, without waiting for the server's CopyInResponse. The server takes the
 * data as soon as it reaches the COPY, with no round trip in between: statements ahead of it that wait for a lock
 * (the recorder's topic lock) leave the data ready in the socket, and the COPY starts the moment the lock is granted.
 *
 * Safe by the protocol: if a statement before the COPY, or the COPY itself, fails, the server answers
 * ErrorResponse and ReadyForQuery and drops the CopyData/CopyDone messages that follow (PostgreSQL ignores them
 * outside copy-in mode). `done` resolves after ReadyForQuery with the rows copied, or rejects with the first error
 * (at once, as pg's own queries do; the connection stays usable for the ROLLBACK that follows).
 */
export class CopyIn implements pg.Submittable {
  readonly done: Promise<number>;
  #rowCount = 0;
  #failed = false;
  #resolve!: (rows: number) => void;
  #reject!: (error: unknown) => void;

  /** `onStarted`: called when the server starts taking the data, i.e. once every statement before the COPY ran. */
  constructor(
    readonly text: string,
    private readonly data: string | Uint8Array,
    private readonly onStarted?: () => void,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  submit(connection: pg.Connection): void {
    const copy = connection as unknown as CopyConnection;
    const bytes = typeof this.data === "string" ? Buffer.from(this.data) : Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    copy.query(this.text);
    for (let at = 0; at < bytes.length; at += CHUNK_BYTES) copy.sendCopyFromChunk(bytes.subarray(at, at + CHUNK_BYTES));
    copy.endCopyFrom();
  }

  handleCopyInResponse(): void {
    this.onStarted?.();
  }

  handleCommandComplete(message: { text?: string }): void {
    const copied = /^COPY (\d+)/.exec(message.text ?? "");
    if (copied) this.#rowCount = Number(copied[1]);
  }

  handleError(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#reject(error);
  }

  handleReadyForQuery(): void {
    if (!this.#failed) this.#resolve(this.#rowCount);
  }

  // Answers to the statements before the COPY: nothing to keep.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}
