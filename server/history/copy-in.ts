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
 * `COPY … FROM STDIN` (with any statements before and after it in the same simple query: the server runs those
 * after the COPY once the data ended) sent in one go: the query, the data and CopyDone are written at once,
 * without waiting for the server's CopyInResponse. The server takes the data as soon as it reaches the COPY, with
 * no round trip in between: statements ahead of it that wait for a lock (the recorder's topic lock) leave the data
 * ready in the socket, and the COPY starts the moment the lock is granted.
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

  readonly #data: string | Uint8Array;
  readonly #onStarted: (() => void) | undefined;
  readonly #onRow: ((fields: (string | null)[]) => void) | undefined;

  /**
   * `onStarted`: called when the server starts taking the data, i.e. once every statement before the COPY ran.
   * `onRow`: called with each row a statement of the query returns (text format), as it arrives.
   */
  constructor(
    readonly text: string,
    data: string | Uint8Array,
    { onStarted, onRow }: { onStarted?: () => void; onRow?: (fields: (string | null)[]) => void } = {},
  ) {
    this.#data = data;
    this.#onStarted = onStarted;
    this.#onRow = onRow;
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  submit(connection: pg.Connection): void {
    const copy = connection as unknown as CopyConnection;
    const data = this.#data;
    const bytes = typeof data === "string" ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    copy.query(this.text);
    for (let at = 0; at < bytes.length; at += CHUNK_BYTES) copy.sendCopyFromChunk(bytes.subarray(at, at + CHUNK_BYTES));
    copy.endCopyFrom();
  }

  handleCopyInResponse(): void {
    this.#onStarted?.();
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

  handleDataRow(message: { fields: (string | null)[] }): void {
    this.#onRow?.(message.fields);
  }

  // Other answers to the statements around the COPY: nothing to keep.
  handleRowDescription(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}
