import { connect, type NatsConnection } from "@nats-io/transport-node";
import { defaults } from "../../defaults.js";
import { ConnectionError, ErrorCode } from "../../errors.js";
import { SharedConnections, type SharedLease } from "../shared.js";
import type { ServerAddress } from "./url.js";

interface Waiter {
  readonly messages: number;
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * One NATS connection shared by every topic and subscription of the process that names the same server.
 * Contract:
 * - the client reconnects forever (until the last user releases it);
 * - `whenConnected()` resolves at once while connected; while disconnected it holds the caller until the
 *   reconnect, within a bound of messages and bytes for the whole connection and a per-call time limit, and
 *   otherwise rejects with a retryable ConnectionError coded ERR_DISCONNECTED — a publish is never dropped
 *   silently because the client was known to be disconnected;
 * - waiters are released in arrival order when the connection comes back.
 */
export class PooledConnection {
  readonly nc: NatsConnection;
  readonly address: ServerAddress;
  #connected = true;
  #closed = false;
  #waiters: Waiter[] = [];
  #bufferedMessages = 0;
  #bufferedBytes = 0;

  constructor(nc: NatsConnection, address: ServerAddress) {
    this.nc = nc;
    this.address = address;
    void this.#watch();
  }

  get connected(): boolean {
    return this.#connected && !this.#closed;
  }

  /** The server's max_payload (headers + body of one message). */
  get maxPayload(): number {
    return this.nc.info?.max_payload ?? defaults.batching.maxBytes;
  }

  /**
   * Admission for a send of `messages` / `bytes`: undefined when the connection is up (send now, no await),
   * else a promise that resolves on the reconnect or rejects as described in the class contract.
   */
  whenConnected(messages: number, bytes: number, timeoutMs: number): Promise<void> | undefined {
    if (this.#closed) return Promise.reject(new ConnectionError(`connection to ${this.address.url} is closed`));
    if (this.#connected) return undefined;
    const limits = defaults.nats;
    if (
      this.#bufferedMessages + messages > limits.disconnectBufferMessages ||
      this.#bufferedBytes + bytes > limits.disconnectBufferBytes
    ) {
      return Promise.reject(
        new ConnectionError(
          `disconnected from ${this.address.url} and the reconnect buffer is full (${this.#bufferedMessages} messages / ${this.#bufferedBytes} bytes held; limits ${limits.disconnectBufferMessages} / ${limits.disconnectBufferBytes})`,
          { code: ErrorCode.Disconnected },
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { messages, bytes, resolve, reject, timer: undefined };
      waiter.timer = setTimeout(() => {
        this.#remove(waiter);
        reject(
          new ConnectionError(`disconnected from ${this.address.url}: no reconnect within ${timeoutMs} ms`, {
            code: ErrorCode.Disconnected,
          }),
        );
      }, timeoutMs);
      this.#bufferedMessages += messages;
      this.#bufferedBytes += bytes;
      this.#waiters.push(waiter);
    });
  }

  #remove(waiter: Waiter): void {
    const index = this.#waiters.indexOf(waiter);
    if (index < 0) return;
    this.#waiters.splice(index, 1);
    this.#bufferedMessages -= waiter.messages;
    this.#bufferedBytes -= waiter.bytes;
  }

  #releaseWaiters(error?: unknown): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    this.#bufferedMessages = 0;
    this.#bufferedBytes = 0;
    for (const waiter of waiters) {
      clearTimeout(waiter.timer);
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
  }

  async #watch(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === "disconnect") {
        this.#connected = false;
      } else if (status.type === "reconnect") {
        this.#connected = true;
        this.#releaseWaiters();
      }
    }
    // The status stream ends when the client closed for good (by close() or a fatal error such as an auth failure).
    this.#closed = true;
    this.#releaseWaiters(new ConnectionError(`connection to ${this.address.url} closed`));
  }

  /** Flushes (bounded) and closes; anyone still waiting for a reconnect is rejected. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#releaseWaiters(new ConnectionError(`connection to ${this.address.url} closed while waiting for a reconnect`));
    if (this.#connected) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.nc.flush().catch(() => {}),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, defaults.nats.closeFlushTimeoutMs))),
      ]);
      clearTimeout(timer);
    }
    await this.nc.close().catch(() => {});
  }
}

/** A hold on a pooled connection (see SharedConnections). */
export type NatsLease = SharedLease<PooledConnection>;

const shared = new SharedConnections<PooledConnection>((connection) => connection.close());

/**
 * Returns a lease on the process's connection to `address`, opening it on first use (ConnectionError when the
 * first connection attempt fails). Each lease is released once; the last release closes the connection.
 */
export function acquire(address: ServerAddress): Promise<NatsLease> {
  return shared.acquire(address.key, () => open(address));
}

async function open(address: ServerAddress): Promise<PooledConnection> {
  try {
    const nc = await connect({
      servers: address.hostport,
      name: "whisper",
      user: address.user,
      pass: address.pass,
      token: address.token,
      maxReconnectAttempts: -1,
      reconnectTimeWait: defaults.nats.reconnectTimeWaitMs,
      timeout: defaults.nats.connectTimeoutMs,
      noRandomize: true,
      // The client otherwise builds an Error (a stack capture) per request just in case it fails; whisper
      // wraps failures in its own coded errors, so that cost per JetStream publish buys nothing.
      noAsyncTraces: true,
    });
    return new PooledConnection(nc, address);
  } catch (cause) {
    throw new ConnectionError(`cannot connect to NATS at ${address.url}: ${(cause as Error)?.message ?? cause}`, {
      cause,
    });
  }
}

/** The pooled connections of this process (for diagnostics and tests). */
export function natsConnections(): Array<{ server: string; users: number; connected: boolean }> {
  return shared.list().map(({ users, connection }) => ({
    server: connection?.address.url ?? "",
    users,
    connected: connection?.connected ?? false,
  }));
}
