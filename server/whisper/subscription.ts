import { z } from "zod";
import { defaults } from "./defaults";
import type { DriverCapabilities, DriverDelivery, DriverSubscription } from "./driver";
import { AlreadyReceivingError, InvalidOptionsError } from "./errors";
import { newId, ReceivedMessage, type Settler } from "./message";
import {
  emptyCounters,
  type Counters,
  type Middleware,
  type ReceiveNext,
  type SubscriptionContext,
} from "./middleware/types";
import { resolveDriver } from "./registry";

const positiveInt = z.number().int().positive();
const subscriptionOptionsSchema = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  concurrency: positiveInt.optional(),
  maxOutstanding: positiveInt.optional(),
  maxBatch: positiveInt.optional(),
  ackDeadlineMs: positiveInt.optional(),
  drainTimeoutMs: z.number().int().nonnegative().optional(),
  startAt: z.union([z.date(), z.number().int().nonnegative()]).optional(),
  use: z.array(z.custom<Middleware>((m) => typeof m === "object" && m !== null && "name" in m)).optional(),
  onError: z.custom<(error: unknown, message: ReceivedMessage) => void>((f) => typeof f === "function").optional(),
  driver: z.record(z.string(), z.unknown()).optional(),
});

export type SubscriptionOptions = z.input<typeof subscriptionOptionsSchema>;
export type Handler = (message: ReceivedMessage) => unknown;

/**
 * A portable subscription over a driver. Obtain one with openSubscription().
 *
 * Contract:
 * - receive(handler) runs handlers concurrently up to `concurrency`; messages with the same ordering key are
 *   handled one at a time in arrival order while other keys proceed;
 * - a handler that throws, leaving its message unsettled, gets the message nacked (redelivered where the driver
 *   can); with subAck() a handler that returns acks;
 * - at most `maxOutstanding` messages are held (running, waiting for a key, or yielded and not settled);
 * - close() stops taking messages, lets running handlers finish for up to drainTimeoutMs, nacks what was
 *   received but never started, flushes acks and closes the driver.
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
  readonly #middleware: readonly Middleware[];
  readonly #onError: ((error: unknown, message: ReceivedMessage) => void) | undefined;
  readonly #counters: Counters = emptyCounters();
  readonly #settleListeners: Array<(message: ReceivedMessage, outcome: "ack" | "nack") => void> = [];
  readonly #stop = new AbortController();

  #mode: "idle" | "receive" | "iterate" = "idle";
  #outstanding = 0;
  #roomWaiter: (() => void) | undefined;
  #pendingAcks: unknown[] = [];
  #pendingNacks = new Map<number, unknown[]>();
  #settleScheduled = false;
  #settling: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;

  // receive() state
  #handle: ReceiveNext | undefined;
  #running = 0;
  #waiting: ReceivedMessage[] = [];
  #waitingHead = 0;
  /** Ordering keys with a handler running, each with the messages waiting behind it. */
  readonly #busyKeys = new Map<string, ReceivedMessage[]>();
  #idleWaiter: (() => void) | undefined;
  readonly #runningMessages = new Set<ReceivedMessage>();
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
   * handlers (bounded by drainTimeoutMs). Rejects if the driver fails for good, or AlreadyReceivingError.
   */
  async receive(handler: Handler, { signal }: { signal?: AbortSignal } = {}): Promise<void> {
    this.#claim("receive");
    this.#handle = this.#compose(handler);
    const stop = signal ? AbortSignal.any([signal, this.#stop.signal]) : this.#stop.signal;
    const loop = this.#receiveLoop(stop);
    this.#receiving = loop.catch(() => {});
    return loop;
  }

  async #receiveLoop(stop: AbortSignal): Promise<void> {
    try {
      while (!stop.aborted) {
        const deliveries = await this.#pull(stop);
        for (const delivery of deliveries) this.#dispatch(this.#wrap(delivery));
      }
    } finally {
      await this.#drain();
      this.#mode = "idle";
    }
  }

  /** Yields messages until close() or until the loop exits; settle each with ack()/nack(). */
  async *[Symbol.asyncIterator](): AsyncIterator<ReceivedMessage> {
    this.#claim("iterate");
    let buffered: ReceivedMessage[] = [];
    let next = 0;
    try {
      while (!this.#stop.signal.aborted) {
        buffered = (await this.#pull(this.#stop.signal)).map((d) => this.#wrap(d));
        for (next = 0; next < buffered.length; next++) yield buffered[next]!;
      }
    } finally {
      for (let i = next; i < buffered.length; i++) buffered[i]!.nack(defaults.subscription.stopNackDelayMs);
      this.#mode = "idle";
    }
  }

  /** Stops receiving, drains (bounded), nacks unstarted messages, flushes settlements, closes the driver. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stop.abort();
      await this.#receiving;
      await this.#flushSettlements();
      await this.#driver.close();
    })();
    return this.#closing;
  }

  /** @internal Settler: called by ReceivedMessage.ack(). */
  ack(message: ReceivedMessage): void {
    this.#pendingAcks.push(message.ackId);
    this.#settled(message, "ack");
  }

  /** @internal Settler: called by ReceivedMessage.nack(). */
  nack(message: ReceivedMessage, delayMs = 0): void {
    let ids = this.#pendingNacks.get(delayMs);
    if (!ids) this.#pendingNacks.set(delayMs, (ids = []));
    ids.push(message.ackId);
    this.#settled(message, "nack");
  }

  #settled(message: ReceivedMessage, outcome: "ack" | "nack"): void {
    for (const listener of this.#settleListeners) listener(message, outcome);
    if (this.#mode === "iterate") this.#released();
    if (!this.#settleScheduled) {
      this.#settleScheduled = true;
      setImmediate(() => void this.#flushSettlements());
    }
  }

  /** Sends batched acks and nacks to the driver; settlement errors are reported, never thrown. */
  #flushSettlements(): Promise<void> {
    this.#settleScheduled = false;
    const acks = this.#pendingAcks;
    const nacks = this.#pendingNacks;
    if (acks.length === 0 && nacks.size === 0) return this.#settling;
    this.#pendingAcks = [];
    this.#pendingNacks = new Map();
    const work = this.#settling.then(async () => {
      try {
        if (acks.length > 0) await this.#driver.sendAcks(acks);
        for (const [delay, ids] of nacks) await this.#driver.sendNacks(ids, delay);
      } catch (error) {
        // A lost ack means a redelivery (at-least-once), never a lost message; report it and go on.
        this.#report(error, undefined);
      }
    });
    this.#settling = work;
    return work;
  }

  #claim(mode: "receive" | "iterate"): void {
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
    return new ReceivedMessage(delivery.message, delivery.deliveryAttempt, delivery.ackId, this);
  }

  /** Waits for room under maxOutstanding, then pulls one batch (empty when stopped). */
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
    const deliveries = await this.#driver.receiveBatch(room, signal);
    if (signal.aborted && deliveries.length > 0) {
      // Stopped while the batch arrived: hand it back.
      await this.#driver.sendNacks(
        deliveries.map((d) => d.ackId),
        defaults.subscription.stopNackDelayMs,
      );
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

  /** Routes a new message: behind its key if the key is busy, else running or waiting for a slot. */
  #dispatch(message: ReceivedMessage): void {
    const key = message.orderingKey;
    if (key !== undefined) {
      const behind = this.#busyKeys.get(key);
      if (behind) return void behind.push(message);
      this.#busyKeys.set(key, []);
    }
    this.#startOrWait(message);
  }

  #startOrWait(message: ReceivedMessage): void {
    if (this.#running < this.#options.concurrency) this.#start(message);
    else this.#waiting.push(message);
  }

  #start(message: ReceivedMessage): void {
    this.#running++;
    this.#runningMessages.add(message);
    this.#handle!(message).then(
      () => this.#finished(message),
      (error) => {
        if (message.settlement === "pending") message.nack();
        this.#report(error, message);
        this.#finished(message);
      },
    );
  }

  #finished(message: ReceivedMessage): void {
    this.#running--;
    this.#runningMessages.delete(message);
    this.#released();
    const key = message.orderingKey;
    if (key !== undefined) {
      const behind = this.#busyKeys.get(key);
      if (behind && behind.length > 0) this.#startOrWait(behind.shift()!);
      else this.#busyKeys.delete(key);
    }
    while (this.#running < this.#options.concurrency && this.#waitingHead < this.#waiting.length) {
      const next = this.#waiting[this.#waitingHead++]!;
      if (this.#waitingHead === this.#waiting.length) {
        this.#waiting = [];
        this.#waitingHead = 0;
      }
      this.#start(next);
    }
    if (this.#running === 0 && this.#idleWaiter) {
      const wake = this.#idleWaiter;
      this.#idleWaiter = undefined;
      wake();
    }
  }

  /** After receive() stops: nack what never started, wait for running handlers up to drainTimeoutMs. */
  async #drain(): Promise<void> {
    const unstarted = this.#waiting.slice(this.#waitingHead);
    this.#waiting = [];
    this.#waitingHead = 0;
    for (const behind of this.#busyKeys.values()) unstarted.push(...behind.splice(0));
    for (const message of unstarted) {
      message.nack(defaults.subscription.stopNackDelayMs);
      this.#released();
    }
    if (this.#running > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (this.#idleWaiter = resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.#options.drainTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      // Handlers still running after the drain timeout: hand their messages back rather than hold them.
      for (const message of this.#runningMessages) message.nack(defaults.subscription.stopNackDelayMs);
    }
    await this.#flushSettlements();
  }

  #report(error: unknown, message: ReceivedMessage | undefined): void {
    if (this.#onError && message) this.#onError(error, message);
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
