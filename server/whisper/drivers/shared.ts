import { ConnectionError } from "../errors.js";

/**
 * One connection per server per process, shared by every topic and subscription that names the server and
 * closed when the last of them lets go: the one pool of every broker driver (NATS and JetStream, Redis, AMQP,
 * MQTT), whose client libraries reconnect on their own. Contract:
 * - `acquire(key, open)` returns a lease on the connection of `key`, opening it with `open()` on first use;
 *   concurrent first acquires share one opening; a failed opening is forgotten (the next acquire tries again)
 *   and rejects every caller with the opening's error;
 * - every lease is released once (later release() calls do nothing); the last release closes the connection
 *   with `close()` and forgets it.
 */
export interface SharedLease<C> {
  readonly connection: C;
  release(): Promise<void>;
}

interface Entry<C> {
  refs: number;
  readonly opening: Promise<C>;
  resolved?: C;
}

export class SharedConnections<C> {
  readonly #entries = new Map<string, Entry<C>>();
  readonly #close: (connection: C) => Promise<void>;

  constructor(close: (connection: C) => Promise<void>) {
    this.#close = close;
  }

  async acquire(key: string, open: () => Promise<C>): Promise<SharedLease<C>> {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      const created: Entry<C> = { refs: 0, opening: open() };
      entry = created;
      this.#entries.set(key, created);
      created.opening.then(
        (connection) => (created.resolved = connection),
        () => {
          if (this.#entries.get(key) === created) this.#entries.delete(key);
        },
      );
    }
    entry.refs++;
    let connection: C;
    try {
      connection = await entry.opening;
    } catch (error) {
      entry.refs--;
      throw error;
    }
    const held = entry;
    let released = false;
    return {
      connection,
      release: async () => {
        if (released) return;
        released = true;
        held.refs--;
        if (held.refs > 0) return;
        if (this.#entries.get(key) === held) this.#entries.delete(key);
        await this.#close(connection);
      },
    };
  }

  /** The open connections with their number of holders (for diagnostics and tests). */
  list(): Array<{ key: string; users: number; connection: C | undefined }> {
    return [...this.#entries].map(([key, entry]) => ({ key, users: entry.refs, connection: entry.resolved }));
  }
}

/**
 * What the broker drivers' topics share: a lease on the shared connection, handed out by `connection()` while
 * the topic is open (a ConnectionError naming the topic once it is closed), released once by close(); and the
 * driver's judgement of retryable errors.
 */
export abstract class SharedTopic<C> {
  #lease: SharedLease<C> | undefined;

  constructor(
    lease: SharedLease<C>,
    readonly description: string,
    readonly isRetryable: (error: unknown) => boolean,
  ) {
    this.#lease = lease;
  }

  protected connection(): C {
    const lease = this.#lease;
    if (lease === undefined) throw new ConnectionError(`topic for ${this.description} is closed`);
    return lease.connection;
  }

  async close(): Promise<void> {
    const lease = this.#lease;
    this.#lease = undefined;
    await lease?.release();
  }
}
