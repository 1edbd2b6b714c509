import { z } from "zod";
import { defaults } from "./defaults.js";
import type { DriverCapabilities, DriverDelivery, DriverSubscription } from "./driver.js";
import { AlreadyReceivingError, InvalidOptionsError, SubscriptionClosedError } from "./errors.js";
import { decodeEncoded, type EncodedMessage } from "./encoded.js";
import { newId, ReceivedMessage, type Settler } from "./message.js";
import {
  emptyCounters,
  type Counters,
  type Middleware,
  type ReceiveNext,
  type SubscriptionContext,
} from "./middleware/types.js";
import { KeyedRunner } from "./ordering/keyed-runner.js";
import { resolveDriver } from "./registry.js";
import { Settlements } from "./settlements.js";
import { withRetries, type RetryPolicy } from "./timing.js";

const positiveInt = z.number().int().positive();
const subscriptionOptionsSchema = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  concurrency: positiveInt.optional(),
  maxOutstanding: positiveInt.optional(),
  maxBatch: positiveInt.optional(),
  ackDeadlineMs: positiveInt.optional(),
  drainTimeoutMs: z.number().int().nonnegative().optional(),
  startAt: z.union([z.date(), z.number().int().nonnegative()]).optional(),
  retry: z
    .strictObject({
      initialDelayMs: z.number().int().nonnegative().optional(),
      maxDelayMs: z.number().int().nonnegative().optional(),
    })
    .optional(),
  use: z.array(z.custom<Middleware>((m) => typeof m === "object" && m !== null && "name" in m)).optional(),
  onError: z.custom<ErrorListener>((f) => typeof f === "function").optional(),
  driver: z.record(z.string(), z.unknown()).optional(),
});

export type SubscriptionOptions = z.input<typeof subscriptionOptionsSchema>;
export type Handler = (message: ReceivedMessage) => unknown;
/**
 * Hears what a subscription reports instead of throwing: a handler's error (with its message), a failed
 * ack/nack send (a SettlementError naming the message ids; no message), and a receive error that is being
 * retried (no message).
 */
export type ErrorListener = (error: unknown, message: ReceivedMessage | undefined) => void;

/**
 * A portable subscription over a driver. Obtain one with openSubscription().
 *
 * Contract:
 * - receive(handler) runs handlers concurrently up to `concurrency`; messages with the same ordering key are
 *   handled one at a time in arrival order while other keys proceed;
 * - a handler that throws, leaving its message unsettled, gets the message nacked (redelivered where the driver
 *   can); with subAck() a handler that returns acks;
 * - at most `maxOutstanding` messages are held (running, waiting for a key, or yielded and not settled);
 * - a receive error the driver calls retryable is retried with the core's backoff until stopped (and
 *   reported to onError); any other ends receive() (it rejects) or iteration (it throws);
 * - a failed ack/nack send is reported to onError as a SettlementError, never thrown;
 * - close() stops taking messages, lets running handlers and an active iterator finish for up to
 *   drainTimeoutMs, nacks what was received but never started (or still held after that), flushes acks and
 *   nacks, and only then closes the driver. receive() or iteration on a closed subscription throws
 *   SubscriptionClosedError.
 */
export class Subscription implements Settler, AsyncIterable<ReceivedMessage> {
  readonly url: string;
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  readonly #driver: DriverSubscription;
  readonly #options: {
    concurrency: number;
    maxOutstanding: number;
    maxBatch: number;
    drainTimeoutMs: number;
  };
  readonly #receiveRetry: RetryPolicy;
  readonly #middleware: readonly Middleware[];
  readonly #onError: ErrorListener | undefined;
  readonly #counters: Counters = emptyCounters();
  readonly #settleListeners: Array<(message: ReceivedMessage, outcome: "ack" | "nack") => void> = [];
  readonly #stop = new AbortController();
  readonly #settlements: Settlements;

  #mode: "idle" | "receive" | "iterate" = "idle";
  #outstanding = 0;
  #roomWaiter: (() => void) | undefined;
  #closing: Promise<void> | undefined;
  /** Messages fetched by an iteration and not settled yet: each frees its maxOutstanding room when settled. */
  readonly #iterated = new WeakSet<ReceivedMessage>();
  /** The active async iteration: its fetched batch, the index in hand, and when its generator has ended. */
  #iteration: { buffered: ReceivedMessage[]; next: number; ended: Promise<void> } | undefined;

  /** Settles when the current receive() loop has stopped and drained. */
  #receiving: Promise<unknown> = Promise.resolve();

  /** @internal Use openSubscription(). */
  constructor(url: string, driver: DriverSubscription, options: z.output<typeof subscriptionOptionsSchema>) {
    this.url = url;
    this.name = options.name ?? `private-${newId()}`;
    this.#driver = driver;
    this.capabilities = driver.capabilities;
    this.#options = {
      concurrency: options.concurrency ?? defaults.subscription.concurrency,
      maxOutstanding: options.maxOutstanding ?? defaults.subscription.maxOutstanding,
      maxBatch: options.maxBatch ?? defaults.subscription.maxBatch,
      drainTimeoutMs: options.drainTimeoutMs ?? defaults.subscription.drainTimeoutMs,
    };
    this.#receiveRetry = { attempts: Infinity, ...defaults.subscription.receiveRetry, ...options.retry };
    this.#settlements = new Settlements(driver, this.name, (error) => this.#report(error, undefined));
    this.#middleware = options.use ?? [];
    for (const m of this.#middleware) {
      if (!m.receive) throw new InvalidOptionsError(`middleware ${m.name}() does not wrap receiving; use it on a topic`);
    }
    this.#onError = options.onError;
  }

  /** A copy of the counters (maintained by the count() middleware). */
  stats(): Counters {
    return { ...this.#counters };
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Runs `handler` for every message until `signal` aborts or close() is called, then waits for running
   * handlers (bounded by drainTimeoutMs). Rejects with a receive error the driver does not call retryable,
   * AlreadyReceivingError, or SubscriptionClosedError.
   */
  async receive(handler: Handler, { signal }: { signal?: AbortSignal } = {}): Promise<void> {
    this.#claim("receive");
    const handle = this.#compose(handler);
    const runner = new KeyedRunner<ReceivedMessage>(
      this.#options.concurrency,
      (message) =>
        handle(message).catch((error: unknown) => {
          if (message.settlement === "pending") message.nack();
          this.#report(error, message);
        }),
      () => this.#released(),
    );
    const stop = signal ? AbortSignal.any([signal, this.#stop.signal]) : this.#stop.signal;
    const loop = this.#receiveLoop(stop, runner);
    this.#receiving = loop.catch(() => {});
    return loop;
  }

  async #receiveLoop(stop: AbortSignal, runner: KeyedRunner<ReceivedMessage>): Promise<void> {
    try {
      while (!stop.aborted) {
        const deliveries = await this.#pull(stop);
        for (const delivery of deliveries) runner.dispatch(this.#wrap(delivery));
      }
    } finally {
      // Nack what never started; hand back what handlers still hold after the drain timeout.
      for (const message of runner.takeUnstarted()) {
        message.nack(defaults.subscription.stopNackDelayMs);
        this.#released();
      }
      const stuck = await runner.idle(this.#options.drainTimeoutMs);
      for (const message of stuck) message.nack(defaults.subscription.stopNackDelayMs);
      await this.#settlements.flush();
      this.#mode = "idle";
    }
  }

  /**
   * Yields messages until close() (no message is yielded after it) or a receive error; settle each with
   * ack()/nack(). Leaving the loop nacks what was fetched and not yet settled.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<ReceivedMessage> {
    this.#claim("iterate");
    let ended!: () => void;
    const iteration = { buffered: [] as ReceivedMessage[], next: 0, ended: new Promise<void>((r) => (ended = r)) };
    this.#iteration = iteration;
    const stop = this.#stop.signal;
    try {
      while (!stop.aborted) {
        iteration.buffered = (await this.#pull(stop)).map((d) => {
          const message = this.#wrap(d);
          this.#iterated.add(message);
          return message;
        });
        for (iteration.next = 0; iteration.next < iteration.buffered.length && !stop.aborted; iteration.next++) {
          yield iteration.buffered[iteration.next]!;
        }
      }
    } finally {
      this.#giveBack(iteration);
      if (this.#iteration === iteration) this.#iteration = undefined;
      this.#mode = "idle";
      ended();
    }
  }

  /**
   * Yields the deliveries in the batches the driver returns (at most maxBatch, within maxOutstanding), NOT
   * decoded: each carries its message as received (encoded.ts), to be decoded by decodeEncoded() where and when
   * the consumer likes, e.g. in a worker thread, while the connection's thread only receives and settles.
   * Settle each with ack()/nack(); an unsettled delivery holds its maxOutstanding room. The deliveries of a
   * yielded batch are the consumer's: leaving the loop or close() does not settle them (close() waits up to
   * drainTimeoutMs for the loop to end; the broker redelivers what is never settled). Middleware works on
   * decoded messages, so a subscription opened with `use` refuses this (InvalidOptionsError). Like iteration,
   * one at a time; throws a receive error the driver does not call retryable.
   */
  async *encodedBatches(): AsyncGenerator<EncodedDelivery[]> {
    if (this.#middleware.length > 0) {
      throw new InvalidOptionsError("encodedBatches() hands over undecoded deliveries; middleware (use) cannot run on them");
    }
    this.#claim("iterate");
    let ended!: () => void;
    const iteration = { buffered: [] as ReceivedMessage[], next: 0, ended: new Promise<void>((r) => (ended = r)) };
    this.#iteration = iteration;
    const stop = this.#stop.signal;
    const settle = (delivery: EncodedDelivery, outcome: "ack" | "nack", delayMs: number) => {
      if (outcome === "ack") this.#settlements.ack(delivery);
      else this.#settlements.nack(delivery, delayMs);
      this.#released();
    };
    try {
      while (!stop.aborted) {
        const deliveries = await this.#pull(stop);
        if (deliveries.length === 0) continue;
        const batch: EncodedDelivery[] = new Array(deliveries.length);
        for (let i = 0; i < deliveries.length; i++) {
          this.#outstanding++;
          batch[i] = new EncodedDelivery(deliveries[i]!, settle);
        }
        yield batch;
      }
    } finally {
      if (this.#iteration === iteration) this.#iteration = undefined;
      this.#mode = "idle";
      ended();
    }
  }

  /** Stops receiving, drains (bounded), nacks unstarted messages, flushes settlements, closes the driver. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stop.abort();
      await Promise.all([this.#receiving, this.#iterationEnded()]);
      await this.#settlements.close();
      await this.#driver.close();
    })();
    return this.#closing;
  }

  /** @internal Settler: called by ReceivedMessage.ack(). */
  ack(message: ReceivedMessage): void {
    this.#settlements.ack(message);
    this.#settled(message, "ack");
  }

  /** @internal Settler: called by ReceivedMessage.nack(). */
  nack(message: ReceivedMessage, delayMs = 0): void {
    this.#settlements.nack(message, delayMs);
    this.#settled(message, "nack");
  }

  #settled(message: ReceivedMessage, outcome: "ack" | "nack"): void {
    for (const listener of this.#settleListeners) listener(message, outcome);
    if (this.#iterated.delete(message)) this.#released();
  }

  /** Waits (up to drainTimeoutMs) for an active iteration to end; if it does not, gives back what it holds. */
  async #iterationEnded(): Promise<void> {
    const iteration = this.#iteration;
    if (!iteration) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      iteration.ended.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.#options.drainTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) this.#giveBack(iteration);
  }

  /** Nacks (with the stop delay) every message of the iteration's batch from the one in hand on, if unsettled. */
  #giveBack(iteration: { buffered: ReceivedMessage[]; next: number }): void {
    for (let i = iteration.next; i < iteration.buffered.length; i++) {
      iteration.buffered[i]!.nack(defaults.subscription.stopNackDelayMs);
    }
  }

  #claim(mode: "receive" | "iterate"): void {
    if (this.#closing) throw new SubscriptionClosedError(this.name);
    if (this.#mode !== "idle") throw new AlreadyReceivingError(this.name);
    this.#mode = mode;
  }

  #compose(handler: Handler): ReceiveNext {
    let chain: ReceiveNext = async (message) => {
      await handler(message);
    };
    const context: SubscriptionContext = {
      topic: this.url,
      subscription: this.name,
      capabilities: this.capabilities,
      counters: this.#counters,
      onSettle: (listener) => this.#settleListeners.push(listener),
    };
    this.#settleListeners.length = 0;
    for (const m of [...this.#middleware].reverse()) chain = m.receive!(chain, context);
    return chain;
  }

  #wrap(delivery: DriverDelivery): ReceivedMessage {
    this.#outstanding++;
    return new ReceivedMessage(delivery.message, delivery.deliveryAttempt, delivery.ackId, this, delivery.sequence);
  }

  /**
   * Waits for room under maxOutstanding, then pulls one batch (empty when stopped), retrying receive errors
   * the driver calls retryable with the core's backoff until stopped; any other error is thrown.
   */
  async #pull(signal: AbortSignal): Promise<DriverDelivery[]> {
    while (this.#outstanding >= this.#options.maxOutstanding && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener("abort", done);
          this.#roomWaiter = undefined;
          resolve();
        };
        this.#roomWaiter = done;
        signal.addEventListener("abort", done, { once: true });
      });
    }
    if (signal.aborted) return [];
    const room = Math.min(this.#options.maxBatch, this.#options.maxOutstanding - this.#outstanding);
    let deliveries: DriverDelivery[];
    try {
      deliveries = await withRetries(
        () => this.#driver.receiveBatch(room, signal),
        this.#receiveRetry,
        (error) => this.#driver.isRetryable?.(error) ?? false,
        { signal, onRetry: (error) => this.#report(error, undefined) },
      );
    } catch (error) {
      if (signal.aborted) return [];
      throw error;
    }
    if (signal.aborted && deliveries.length > 0) {
      // Stopped while the batch arrived: hand it back.
      for (const d of deliveries) {
        this.#settlements.nack({ id: d.message.id, ackId: d.ackId }, defaults.subscription.stopNackDelayMs);
      }
      return [];
    }
    return deliveries;
  }

  #released(): void {
    this.#outstanding--;
    const wake = this.#roomWaiter;
    if (wake) {
      this.#roomWaiter = undefined;
      wake();
    }
  }

  /** Hands an error to onError; a listener that throws does not stop the subscription (listeners own their errors). */
  #report(error: unknown, message: ReceivedMessage | undefined): void {
    try {
      this.#onError?.(error, message);
    } catch {
      // See above.
    }
  }
}

/**
 * One delivery of Subscription.encodedBatches(): the message as received (`encoded`; decodeEncoded() makes the
 * Message), its delivery attempt and broker sequence, and ack()/nack(), of which only the first call counts.
 */
export class EncodedDelivery {
  readonly encoded: EncodedMessage;
  readonly deliveryAttempt: number;
  /** The broker's position of the message (a JetStream stream sequence), when the driver has one. */
  readonly sequence: bigint | number | undefined;
  /** @internal The driver's handle (Settlements). */
  readonly ackId: unknown;
  readonly #delivery: DriverDelivery;
  readonly #settle: (delivery: EncodedDelivery, outcome: "ack" | "nack", delayMs: number) => void;
  #state: "pending" | "acked" | "nacked" = "pending";

  /** @internal Made by Subscription.encodedBatches(). */
  constructor(delivery: DriverDelivery, settle: (delivery: EncodedDelivery, outcome: "ack" | "nack", delayMs: number) => void) {
    this.#delivery = delivery;
    this.encoded = delivery.encoded ?? { format: "message", message: delivery.message };
    this.deliveryAttempt = delivery.deliveryAttempt;
    this.sequence = delivery.sequence;
    this.ackId = delivery.ackId;
    this.#settle = settle;
  }

  /** The message id, decoding the delivery if it was not (named in the report of a failed settlement). */
  get id(): string {
    return this.#delivery.encoded ? decodeEncoded(this.#delivery.encoded).id : this.#delivery.message.id;
  }

  get settlement(): "pending" | "acked" | "nacked" {
    return this.#state;
  }

  ack(): void {
    if (this.#state !== "pending") return;
    this.#state = "acked";
    this.#settle(this, "ack", 0);
  }

  nack(delayMs = 0): void {
    if (this.#state !== "pending") return;
    this.#state = "nacked";
    this.#settle(this, "nack", delayMs);
  }
}

/** Opens a subscription by URL; the scheme picks the driver. Throws UnknownDriverError, InvalidUrlError, InvalidOptionsError. */
export async function openSubscription(url: string | URL, options: SubscriptionOptions = {}): Promise<Subscription> {
  const parsed = subscriptionOptionsSchema.safeParse(options);
  if (!parsed.success) throw new InvalidOptionsError(z.prettifyError(parsed.error), { cause: parsed.error });
  const { url: resolved, driver } = await resolveDriver(url);
  const driverSubscription = await driver.openSubscription(resolved, {
    name: parsed.data.name,
    ackDeadlineMs: parsed.data.ackDeadlineMs ?? defaults.subscription.ackDeadlineMs,
    startAt: parsed.data.startAt,
    driver: parsed.data.driver,
  });
  try {
    return new Subscription(resolved.href, driverSubscription, parsed.data);
  } catch (error) {
    await driverSubscription.close();
    throw error;
  }
}
