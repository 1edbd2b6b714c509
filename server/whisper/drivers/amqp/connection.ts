import { connect, type Channel, type ConfirmChannel, type RecoveringChannelModel } from "amqplib";
import { defaults } from "../../defaults.js";
import {
  ConnectionError,
  ErrorCode,
  InvalidOptionsError,
  NotFoundError,
  PublishError,
  TimeoutError,
  WhisperError,
} from "../../errors.js";
import { SharedConnections, type SharedLease } from "../shared.js";

/** Where and how to connect; `key` identifies one shared connection (server, vhost and credentials). */
export interface AmqpAddress {
  /** `amqp://host:port` (plus `?vhost=` when not "/"), without credentials: shown to users. */
  readonly url: string;
  readonly hostport: string;
  readonly vhost: string;
  readonly username: string;
  readonly password: string;
  readonly key: string;
}

/** The server of an `amqp://` URL; credentials default to RabbitMQ's guest/guest. */
export function amqpAddress(url: URL, vhost: string): AmqpAddress {
  const host = url.hostname || "127.0.0.1";
  const port = url.port === "" ? defaults.amqp.port : Number(url.port);
  const hostport = `${host}:${port}`;
  const username = url.username ? decodeURIComponent(url.username) : "guest";
  const password = url.password ? decodeURIComponent(url.password) : "guest";
  return {
    url: `amqp://${hostport}${vhost === "/" ? "" : `?vhost=${encodeURIComponent(vhost)}`}`,
    hostport,
    vhost,
    username,
    password,
    key: `${hostport}|${vhost}|${username}|${password}`,
  };
}

/**
 * One AMQP connection to a broker (amqplib with recovery: it reconnects forever `reconnectDelayMs` apart;
 * channels do not survive a reconnect: their users open them again, the publisher on its next use, a
 * subscription on its next receive). Topics share one confirm channel (`publisher()`); each subscription has a
 * channel of its own (its prefetch is its flow control).
 */
export class AmqpConnection {
  #connected = true;
  #closed = false;
  #publisher: Promise<ConfirmChannel> | undefined;
  #publisherChannel: ConfirmChannel | undefined;
  /** Callers of whenConnected() waiting for the reconnect: each is woken (resolved) or failed (closed) once. */
  readonly #waiters = new Set<{ wake: () => void; fail: (error: Error) => void }>();
  readonly #drains = new WeakMap<ConfirmChannel, Promise<void>>();

  constructor(
    readonly model: RecoveringChannelModel,
    readonly address: AmqpAddress,
  ) {
    model.on("error", () => {});
    model.on("disconnect", () => {
      this.#connected = false;
      this.#publisher = undefined;
      this.#publisherChannel = undefined;
    });
    model.on("connect", () => {
      this.#connected = true;
      for (const waiter of [...this.#waiters]) waiter.wake();
    });
  }

  get connected(): boolean {
    return this.#connected && !this.#closed;
  }

  /** Undefined while connected; else resolves on the reconnect or rejects after `timeoutMs` (retryable ERR_DISCONNECTED). */
  whenConnected(timeoutMs: number): Promise<void> | undefined {
    if (this.#closed) return Promise.reject(new ConnectionError(`connection to ${this.address.url} is closed`));
    if (this.#connected) return undefined;
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        wake: () => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve();
        },
        fail: (error: Error) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          reject(error);
        },
      };
      const timer = setTimeout(
        () =>
          waiter.fail(
            new ConnectionError(`disconnected from AMQP broker at ${this.address.url}: no reconnect within ${timeoutMs} ms`, {
              code: ErrorCode.Disconnected,
            }),
          ),
        timeoutMs,
      );
      this.#waiters.add(waiter);
    });
  }

  /**
   * The shared confirm channel of this connection: the open one itself (so a send can publish without yielding),
   * else a promise of it, opened again after it closed (a reconnect, a channel error).
   */
  publisher(): ConfirmChannel | Promise<ConfirmChannel> {
    return this.#publisherChannel ?? (this.#publisher ??= this.#openPublisher());
  }

  #openPublisher(): Promise<ConfirmChannel> {
    const opening: Promise<ConfirmChannel> = this.model.createConfirmChannel().then((channel) => {
      channel.on("error", () => {});
      channel.on("close", () => {
        if (this.#publisherChannel === channel) this.#publisherChannel = undefined;
        if (this.#publisher === opening) this.#publisher = undefined;
      });
      if (this.#publisher === opening) this.#publisherChannel = channel;
      return channel;
    });
    opening.catch(() => {
      if (this.#publisher === opening) this.#publisher = undefined;
    });
    return opening;
  }

  /**
   * Resolves when `channel` can take more (its "drain" event) or closed; one pair of listeners per blocked period,
   * however many batches wait on it.
   */
  drained(channel: ConfirmChannel): Promise<void> {
    let waiting = this.#drains.get(channel);
    if (waiting === undefined) {
      waiting = new Promise<void>((resolve) => {
        const done = () => {
          channel.off("drain", done);
          channel.off("close", done);
          this.#drains.delete(channel);
          resolve();
        };
        channel.on("drain", done);
        channel.on("close", done);
      });
      this.#drains.set(channel, waiting);
    }
    return waiting;
  }

  /**
   * Runs `fn` on a channel of its own that is closed afterwards: declarations and checks, whose failure closes
   * the channel they ran on (AMQP channel errors), never touch the shared ones.
   */
  async withChannel<T>(fn: (channel: Channel) => Promise<T>): Promise<T> {
    const channel = await this.model.createChannel();
    channel.on("error", () => {});
    try {
      return await fn(channel);
    } finally {
      await channel.close().catch(() => {});
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiter of [...this.#waiters]) waiter.fail(new ConnectionError(`connection to ${this.address.url} closed while waiting for a reconnect`));
    await this.model.close().catch(() => {});
  }
}

const shared = new SharedConnections<AmqpConnection>((connection) => connection.close());

/**
 * The process's connection to `address`, opened on first use (ConnectionError naming the broker when the first
 * attempt fails: no retries before the first connection); each lease is released once, the last closes it.
 */
export function acquireAmqp(address: AmqpAddress): Promise<SharedLease<AmqpConnection>> {
  return shared.acquire(address.key, async () => {
    const [host, port] = [address.hostport.slice(0, address.hostport.lastIndexOf(":")), address.hostport.slice(address.hostport.lastIndexOf(":") + 1)];
    try {
      const model = await connect(
        { protocol: "amqp", hostname: host, port: Number(port), username: address.username, password: address.password, vhost: address.vhost },
        {
          timeout: defaults.amqp.connectTimeoutMs,
          clientProperties: { connection_name: "whisper" },
          recovery: { initialMaxRetries: 0, maxRetries: Infinity, calculateDelay: () => defaults.amqp.reconnectDelayMs },
        },
      );
      return new AmqpConnection(model, address);
    } catch (cause) {
      throw new ConnectionError(`cannot connect to AMQP broker at ${address.url}: ${(cause as Error)?.message ?? cause}`, { cause });
    }
  });
}

/** The shared AMQP connections of this process (for diagnostics and tests). */
export function amqpConnections(): Array<{ server: string; users: number; connected: boolean }> {
  return shared.list().map(({ users, connection }) => ({
    server: connection?.address.url ?? "",
    users,
    connected: connection?.connected ?? false,
  }));
}

/** Wraps an amqplib error in a coded whisper error; `what` names the operation and the object. */
export function wrapAmqpError(error: unknown, server: string, what: string): WhisperError {
  if (error instanceof WhisperError) return error;
  const code = (error as { code?: unknown })?.code;
  const text = (error as Error)?.message ?? String(error);
  if (code === 404) return new NotFoundError(`${what} on ${server} (${text})`, { cause: error });
  if (code === 406) return new InvalidOptionsError(`${what} on ${server} conflicts with what exists there: ${text}`, { cause: error });
  if (code === 403) return new PublishError(`${what} on ${server} refused: ${text}`, false, { cause: error });
  if (/timeout|timed out/i.test(text)) return new TimeoutError(`${what} on ${server}`, defaults.amqp.connectTimeoutMs);
  return new ConnectionError(`connection to AMQP broker at ${server} lost during ${what}: ${text}`, {
    cause: error,
    code: ErrorCode.Disconnected,
  });
}

/** True for errors worth another try: connection loss, timeouts, and publishes the broker nacked. */
export function isRetryableAmqpError(error: unknown): boolean {
  if (error instanceof PublishError) return error.retryable;
  return error instanceof ConnectionError || error instanceof TimeoutError;
}
