import type { DriverDelivery } from "../driver.js";
import { ConnectionError, type WhisperError } from "../errors.js";
import { Wakeup } from "./wakeup.js";

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

/**
 * The deliveries a push-fed receiveBatch hands out (pushed by the client library's callbacks or the driver's own
 * reads), with the one receive failure waiting to be thrown. Contract of take(), the receiveBatch loop: returns
 * [] once closed or when `signal` aborts; else up to `maxMessages` buffered deliveries, oldest first; else throws
 * the failure recorded by fail() (once); else runs `refill` (start a read, reopen a channel; what it returns runs
 * after the wait) and waits for push(), fail(), wake(), close() or the signal, then looks again. One take() at a
 * time (the portable subscription never has two receiveBatch calls in flight).
 */
export class DeliveryBuffer {
  #deliveries: DriverDelivery[] = [];
  #failure: WhisperError | undefined;
  #closed = false;
  readonly #wakeup = new Wakeup();

  get closed(): boolean {
    return this.#closed;
  }

  /** Deliveries buffered, not yet taken. */
  get size(): number {
    return this.#deliveries.length;
  }

  push(delivery: DriverDelivery): void {
    this.#deliveries.push(delivery);
    this.#wakeup.wake();
  }

  /** Records the error the next take() throws (a later one replaces it); ignored once closed. */
  fail(error: WhisperError): void {
    if (this.#closed) return;
    this.#failure = error;
    this.#wakeup.wake();
  }

  /** Makes a waiting take() look again (something it depends on changed). */
  wake(): void {
    this.#wakeup.wake();
  }

  /** Drops the buffered deliveries for which `stale` is true. */
  remove(stale: (delivery: DriverDelivery) => boolean): void {
    this.#deliveries = this.#deliveries.filter((d) => !stale(d));
  }

  /** Ends take() for good; returns what was buffered (for the driver to hand back). */
  close(): DriverDelivery[] {
    this.#closed = true;
    this.#wakeup.wake();
    return this.#deliveries.splice(0);
  }

  async take(maxMessages: number, signal: AbortSignal, refill?: () => (() => void) | void): Promise<DriverDelivery[]> {
    for (;;) {
      if (this.#closed || signal.aborted) return [];
      if (this.#deliveries.length > 0) return this.#deliveries.splice(0, maxMessages);
      const failure = this.#failure;
      if (failure !== undefined) {
        this.#failure = undefined;
        throw failure;
      }
      const afterWait = refill?.();
      await this.#wakeup.wait(signal);
      afterWait?.();
    }
  }
}
