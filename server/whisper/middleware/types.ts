import type { DriverCapabilities } from "../driver.js";
import type { Message, ReceivedMessage } from "../message.js";

/** Per-message publish options travelling down the chain. Treat as immutable: make a new object to change. */
export interface PublishOptions {
  /** Resolve only once the broker confirmed the message (set by pubAck()). */
  readonly confirm: boolean;
}

/** Publishes one message; resolves to its id once sent. */
export type PublishNext = (message: Message, options: PublishOptions) => Promise<string>;
/** Handles one delivery; resolving means handled, rejecting means failed. */
export type ReceiveNext = (message: ReceivedMessage) => Promise<void>;

/** Counters readable through topic.stats() and sub.stats(); the count() middleware maintains them. */
export interface Counters {
  published: number;
  publishFailed: number;
  received: number;
  acked: number;
  nacked: number;
  /** Handler calls that threw (or timed out). */
  failed: number;
}

export function emptyCounters(): Counters {
  return { published: 0, publishFailed: 0, received: 0, acked: 0, nacked: 0, failed: 0 };
}

export interface TopicContext {
  /** The topic URL. */
  readonly topic: string;
  readonly capabilities: DriverCapabilities;
  readonly counters: Counters;
}

export interface SubscriptionContext {
  readonly topic: string;
  /** The subscription's name, or a generated one for a private subscription. */
  readonly subscription: string;
  readonly capabilities: DriverCapabilities;
  readonly counters: Counters;
  /** Registers a listener called after each delivery is acked or nacked (by anyone). */
  onSettle(listener: (message: ReceivedMessage, outcome: "ack" | "nack") => void): void;
}

/**
 * A middleware wraps publishing, receiving, or both: a function around a function. In `use: [a, b]`, `a`
 * is outermost (it sees a call first and a result last). Each middleware's doc says what it does to
 * delivery guarantees.
 */
export interface Middleware {
  readonly name: string;
  publish?(next: PublishNext, context: TopicContext): PublishNext;
  receive?(next: ReceiveNext, context: SubscriptionContext): ReceiveNext;
}
