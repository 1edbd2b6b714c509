import type { Msg, Subscription as NatsSub } from "@nats-io/transport-node";
import { defaults } from "../../defaults.js";
import type {
  Driver,
  DriverCapabilities,
  DriverDelivery,
  DriverSubscription,
  DriverSubscriptionOptions,
  DriverTopic,
  DriverTopicOptions,
  SendOptions,
} from "../../driver.js";
import { ConnectionError, InvalidOptionsError, PublishError, TimeoutError, WhisperError } from "../../errors.js";
import type { Message } from "../../message.js";
import { decode, encodeBatch, type Encoded } from "./codec.js";
import { SharedTopic } from "../shared.js";
import { acquire, type NatsLease, type PooledConnection } from "./pool.js";
import { checkSettings, intSetting, parseNatsUrl } from "./url.js";
import { Wakeup } from "../wakeup.js";

/**
 * Core NATS, `nats://host:port/<subject>`. At-most-once: nothing is stored, a message reaches the
 * subscriptions connected when it is published, nack() drops the message. Subscription `name` is a queue
 * group; subscription subjects may use `*` and `>`. One connection per server per process (pool.ts).
 */
export const natsCapabilities: DriverCapabilities = Object.freeze({
  nack: false,
  redelivery: false,
  ordering: true,
  persistence: false,
  sharedSubscriptions: true,
});

/** Why core NATS lacks what it lacks (for docs and the conformance harness). */
export const natsCapabilityReasons = Object.freeze({
  nack: "core NATS is at-most-once: there is nothing to hand a message back to",
  redelivery: "core NATS keeps no copy of a message once it is delivered, so it cannot redeliver",
  persistence: "core NATS stores nothing: a message reaches only the subscribers connected when it is sent",
});

/** True for errors worth another send: connection loss, timeouts, and publish errors marked retryable. */
export function isRetryableNatsError(error: unknown): boolean {
  if (error instanceof PublishError) return error.retryable;
  return error instanceof ConnectionError || error instanceof TimeoutError;
}

/** Wraps a client-library error from a send in a coded whisper error. */
export function wrapSendError(error: unknown, server: string): WhisperError {
  if (error instanceof WhisperError) return error;
  const name = (error as Error)?.name ?? "";
  const text = (error as Error)?.message ?? String(error);
  if (name === "TimeoutError") return new TimeoutError(`NATS request to ${server}`, defaults.nats.confirmTimeoutMs);
  if (/closed|disconnect|draining|connection/i.test(`${name} ${text}`)) {
    return new ConnectionError(`connection to ${server} lost: ${text}`, { cause: error });
  }
  return new PublishError(`NATS publish to ${server} failed: ${text}`, false, { cause: error });
}

/** Rejects with TimeoutError if `promise` is not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What the core NATS and JetStream topics share: a lease on the pooled connection (released on close), the
 * batch encoded and admitted by the connection before sending, and NATS's judgement of retryable errors.
 */
export abstract class LeasedTopic extends SharedTopic<PooledConnection> implements DriverTopic {
  abstract readonly capabilities: DriverCapabilities;

  constructor(
    lease: NatsLease,
    readonly subject: string,
    readonly bufferTimeoutMs: number,
  ) {
    super(lease, subject, isRetryableNatsError);
  }

  abstract sendBatch(messages: readonly Message[], options: SendOptions): Promise<void>;

  /** The connection and the batch encoded for it, once it can take the batch; ConnectionError once closed. */
  protected async prepare(
    messages: readonly Message[],
    options: { msgId?: boolean } = {},
  ): Promise<{ connection: PooledConnection; encoded: Encoded[] }> {
    const connection = this.connection();
    return { connection, encoded: await encodeBatch(connection, messages, this.bufferTimeoutMs, options) };
  }
}

class NatsTopic extends LeasedTopic {
  readonly capabilities = natsCapabilities;

  async sendBatch(messages: readonly Message[], options: SendOptions): Promise<void> {
    const { connection, encoded } = await this.prepare(messages);
    const nc = connection.nc;
    try {
      for (const e of encoded) nc.publish(this.subject, e.body, { headers: e.headers });
      if (options.confirm) {
        await within(nc.flush(), defaults.nats.confirmTimeoutMs, `flush to ${connection.address.url}`);
      }
    } catch (error) {
      throw wrapSendError(error, connection.address.url);
    }
  }
}

/**
 * A core NATS subscription: a client subscription (queue group = name) whose messages wait in a bounded
 * buffer until receiveBatch() takes them. Past the bound (maxPendingMessages / maxPendingBytes) newer
 * messages are dropped and counted in `dropped`, as the server itself does for slow consumers.
 */
export class NatsSubscription implements DriverSubscription {
  readonly capabilities = natsCapabilities;
  readonly #lease: NatsLease;
  readonly #sub: NatsSub;
  readonly #server: string;
  #buffer: Msg[] = [];
  #head = 0;
  #bufferedBytes = 0;
  readonly #wakeup = new Wakeup();
  #closed = false;
  /** Messages dropped because the buffer was full. */
  dropped = 0;

  constructor(lease: NatsLease, subject: string, queue: string | undefined, maxPending: { messages: number; bytes: number }) {
    this.#lease = lease;
    this.#server = lease.connection.address.url;
    this.#sub = lease.connection.nc.subscribe(subject, {
      queue,
      callback: (error, msg) => {
        if (error) return;
        if (this.#buffer.length - this.#head >= maxPending.messages || this.#bufferedBytes >= maxPending.bytes) {
          this.dropped++;
          return;
        }
        this.#buffer.push(msg);
        this.#bufferedBytes += msg.data.byteLength;
        this.#wakeup.wake();
      },
    });
  }

  /** Resolves once the server has the subscription (a flush round trip), or at once while disconnected. */
  async ready(): Promise<void> {
    const connection = this.#lease.connection;
    if (!connection.connected) return; // the client re-sends the subscription when it reconnects
    await within(connection.nc.flush(), defaults.nats.confirmTimeoutMs, `subscribe on ${this.#server}`).catch(
      (error) => {
        if (connection.connected) throw wrapSendError(error, this.#server);
      },
    );
  }

  async receiveBatch(maxMessages: number, signal: AbortSignal): Promise<DriverDelivery[]> {
    for (;;) {
      if (this.#closed || signal.aborted) return [];
      const available = this.#buffer.length - this.#head;
      if (available > 0) {
        const n = Math.min(available, maxMessages);
        const out: DriverDelivery[] = new Array(n);
        for (let i = 0; i < n; i++) {
          const msg = this.#buffer[this.#head + i]!;
          this.#bufferedBytes -= msg.data.byteLength;
          out[i] = { message: decode(msg, { server: this.#server }), ackId: undefined, deliveryAttempt: 1 };
        }
        this.#head += n;
        if (this.#head === this.#buffer.length) {
          this.#buffer = [];
          this.#head = 0;
        } else if (this.#head > 4096 && this.#head * 2 > this.#buffer.length) {
          this.#buffer = this.#buffer.slice(this.#head);
          this.#head = 0;
        }
        return out;
      }
      await this.#wakeup.wait(signal);
    }
  }

  /** receiveBatch never throws: the client library rides out connection loss and re-subscribes. */
  isRetryable(): boolean {
    return false;
  }

  /** Core NATS has nothing to acknowledge. */
  async sendAcks(): Promise<void> {}

  /** Core NATS cannot redeliver: a nack drops the message (capabilities.nack is false). */
  async sendNacks(): Promise<void> {}

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#buffer = [];
    this.#head = 0;
    this.#wakeup.wake();
    try {
      this.#sub.unsubscribe();
    } catch {
      // Already closed with its connection.
    }
    await this.#lease.release();
  }
}

export const natsDriver: Driver = {
  async openTopic(url: URL, options: DriverTopicOptions): Promise<DriverTopic> {
    const { server, subject } = parseNatsUrl(url, { wildcards: false });
    checkSettings(url, options.driver, ["bufferTimeoutMs"]);
    const bufferTimeoutMs = intSetting(url, "bufferTimeoutMs", options.driver, defaults.nats.disconnectBufferTimeoutMs);
    const lease = await acquire(server);
    return new NatsTopic(lease, subject, bufferTimeoutMs);
  },

  async openSubscription(url: URL, options: DriverSubscriptionOptions): Promise<DriverSubscription> {
    const { server, subject } = parseNatsUrl(url, { wildcards: true });
    checkSettings(url, options.driver, ["maxPendingMessages", "maxPendingBytes"]);
    if (options.name !== undefined && /\s/.test(options.name)) {
      throw new InvalidOptionsError(`subscription name "${options.name}" is a NATS queue group: no white space`);
    }
    const maxPending = {
      messages: intSetting(url, "maxPendingMessages", options.driver, defaults.nats.maxPendingMessages),
      bytes: intSetting(url, "maxPendingBytes", options.driver, defaults.nats.maxPendingBytes),
    };
    const lease = await acquire(server);
    let subscription: NatsSubscription | undefined;
    try {
      subscription = new NatsSubscription(lease, subject, options.name, maxPending);
      await subscription.ready();
      return subscription;
    } catch (error) {
      if (subscription) await subscription.close();
      else await lease.release();
      throw wrapSendError(error, server.url);
    }
  },
};

export { natsConnections } from "./pool.js";
