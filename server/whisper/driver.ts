import type { EncodedMessage } from "./encoded.js";
import type { Message } from "./message.js";

/**
 * The driver interface: the least a protocol must provide. Everything portable (validation, middleware,
 * batching, flow control, retries, ordering keys, concurrency, shutdown) lives in topic.ts and
 * subscription.ts, once, above these methods. A driver never retries on its own and never reorders a batch.
 */

/** What a driver can do; the portable layer and the conformance suite switch on these. */
export interface DriverCapabilities {
  /** nack() hands a message back for redelivery (otherwise nack is a no-op that only records the failure). */
  readonly nack: boolean;
  /** Unacked or nacked messages are delivered again, with a higher delivery attempt. */
  readonly redelivery: boolean;
  /** Messages sent one batch after the other arrive at each subscription in that order. */
  readonly ordering: boolean;
  /** Messages sent while no subscriber is connected are kept and delivered later. */
  readonly persistence: boolean;
  /** Several subscriptions with the same name share (split) the messages. */
  readonly sharedSubscriptions: boolean;
}

/** Per-send options given by the portable topic. */
export interface SendOptions {
  /** The caller asked for broker confirmation (pubAck): resolve only once the broker has the messages. */
  readonly confirm: boolean;
}

export interface DriverTopic {
  readonly capabilities: DriverCapabilities;
  /**
   * Sends the batch, in order: messages of one ordering key reach the broker in batch order. Resolves when
   * every message has been handed over (and confirmed by the broker when `options.confirm`, or always for
   * drivers whose protocol confirms). If nothing or not every message was sent it rejects:
   * - with a PartialSendError when it knows which messages were sent: their indices are absent from its
   *   `failures`, every other index maps to that message's own error (retryable per isRetryable());
   * - with any other error when the whole batch failed (or it cannot tell which messages were sent).
   * The portable topic resolves what was sent and retries only what failed (by isRetryable() of each error).
   * Must not retry by itself and must keep no state about earlier attempts. May split the batch for the wire.
   */
  sendBatch(messages: readonly Message[], options: SendOptions): Promise<void>;
  /** True if sending again may succeed (connection loss, timeout, throttling); false for permanent errors. */
  isRetryable(error: unknown): boolean;
  /** Releases the driver's resources. The portable topic has already flushed. Idempotent. */
  close(): Promise<void>;
}

/**
 * One delivery handed up by a driver; the driver never changes it afterwards (a redelivery is a new one).
 * `message` may be a getter that decodes on first read: the portable layer reads it once per delivery, and
 * not at all for deliveries handed over undecoded (Subscription.encodedBatches()).
 */
export interface DriverDelivery {
  readonly message: Message;
  /**
   * The delivery as received, for drivers that have a wire form (NATS, JetStream): decodeEncoded(encoded) must
   * equal `message`. Without it, encodedBatches() hands over { format: "message", message }.
   */
  readonly encoded?: EncodedMessage;
  /** Opaque handle passed back to sendAcks/sendNacks. */
  readonly ackId: unknown;
  /** 1 on first delivery. */
  readonly deliveryAttempt: number;
  /** The broker's position of the message (e.g. a JetStream stream sequence), for drivers that have one. */
  readonly sequence?: bigint | number;
}

export interface DriverSubscription {
  readonly capabilities: DriverCapabilities;
  /**
   * Returns between 1 and `maxMessages` deliveries, waiting until at least one is available. Returns an
   * empty array only when `signal` is aborted or the subscription is closed (at once if either is so when
   * called). Must not throw for an empty poll; throws a WhisperError for a failure that the caller should
   * see (e.g. the stream was deleted). The portable subscription calls it again after an error for which
   * isRetryable() is true, with backoff, and surfaces any other error to the consumer.
   */
  receiveBatch(maxMessages: number, signal: AbortSignal): Promise<DriverDelivery[]>;
  /**
   * True if receiving again may succeed after `error` from receiveBatch (a transient failure). Optional:
   * without it every receive error surfaces to the consumer.
   */
  isRetryable?(error: unknown): boolean;
  /** Acknowledges deliveries. Unknown, duplicate or already-settled ids are ignored (never an error). */
  sendAcks(ackIds: readonly unknown[]): Promise<void>;
  /**
   * Hands deliveries back for redelivery after `delayMs` (0 = now). Drivers without capabilities.nack
   * treat this as an ack (the message is dropped, never delivered again). Unknown, duplicate or
   * already-settled ids are ignored.
   */
  sendNacks(ackIds: readonly unknown[], delayMs: number): Promise<void>;
  /**
   * Stops receiving and releases resources; deliveries not acked are redelivered where the driver can. A
   * pending receiveBatch resolves with []. Idempotent.
   */
  close(): Promise<void>;
}

/** Options every driver receives when opening; drivers read their own settings from the URL's query. */
export interface DriverTopicOptions {
  /** Driver-specific settings given in code (the URL query holds the same as strings). */
  readonly driver?: Readonly<Record<string, unknown>>;
}

export interface DriverSubscriptionOptions {
  /** Subscriptions of one name share messages (queue group / durable consumer); none = private. */
  readonly name?: string;
  /** A delivery not settled within this time is redelivered (drivers that redeliver). */
  readonly ackDeadlineMs: number;
  /** Replay from a point in a persistent stream (drivers with persistence). */
  readonly startAt?: Date | number;
  readonly driver?: Readonly<Record<string, unknown>>;
}

/** A driver: opens topics and subscriptions for URLs of its scheme(s). Must throw InvalidUrlError for a bad URL. */
export interface Driver {
  openTopic(url: URL, options: DriverTopicOptions): Promise<DriverTopic>;
  openSubscription(url: URL, options: DriverSubscriptionOptions): Promise<DriverSubscription>;
}
