import { z } from "zod";
import { defaults } from "./defaults.js";
import type { DriverCapabilities, DriverTopic } from "./driver.js";
import {
  FlowControlError,
  InvalidOptionsError,
  OrderingKeyPausedError,
  OrderingNotEnabledError,
  TopicClosedError,
} from "./errors.js";
import { createMessage, Message, type MessageInit } from "./message.js";
import { emptyCounters, type Counters, type Middleware, type PublishNext, type PublishOptions } from "./middleware/types.js";
import { KeyQueues, takeWithin, type PausedKey, type Pending } from "./ordering/key-queues.js";
import { PublishResult } from "./publish-result.js";
import { resolveDriver } from "./registry.js";
import { sendSettling } from "./send.js";

const positiveInt = z.number().int().positive();
const topicOptionsSchema = z.strictObject({
  ordering: z.boolean().optional(),
  batching: z
    .strictObject({
      maxMessages: positiveInt.optional(),
      maxBytes: positiveInt.optional(),
      maxLatencyMs: z.number().int().nonnegative().optional(),
      maxConcurrentBatches: positiveInt.optional(),
    })
    .optional(),
  flowControl: z
    .strictObject({
      maxOutstandingMessages: positiveInt.optional(),
      maxOutstandingBytes: positiveInt.optional(),
      limitExceeded: z.enum(["block", "fail"]).optional(),
    })
    .optional(),
  retry: z
    .strictObject({
      attempts: positiveInt.optional(),
      initialDelayMs: z.number().int().nonnegative().optional(),
      maxDelayMs: z.number().int().nonnegative().optional(),
    })
    .optional(),
  use: z.array(z.custom<Middleware>((m) => typeof m === "object" && m !== null && "name" in m)).optional(),
  onPause: z.custom<(pause: PauseEvent) => void>((f) => typeof f === "function").optional(),
  driver: z.record(z.string(), z.unknown()).optional(),
});

export type TopicOptions = z.input<typeof topicOptionsSchema>;

/** What the topic reports when an ordering key pauses: the key, the error, and every rejected message in order. */
export interface PauseEvent extends PausedKey {
  /** The message(s) whose send failed, then every message that was queued behind them, in publish order. */
  readonly messages: readonly Message[];
}

const NO_CONFIRM: PublishOptions = Object.freeze({ confirm: false });
const UNORDERED = "";

/**
 * A portable topic over a driver: validation, middleware, batching, flow control, retries with backoff,
 * ordering keys and close. Obtain one with openTopic().
 *
 * Contract:
 * - publish() never throws; its result rejects with a coded WhisperError;
 * - messages without an ordering key are sent in batches, up to maxConcurrentBatches at once;
 * - with `ordering: true`, each key has at most one batch in flight, so a key's messages reach the driver
 *   in publish order; a failed send (after retries) pauses the key (see OrderingKeyPausedError);
 * - close() stops accepting, sends everything accepted, then closes the driver.
 */
export class Topic {
  readonly url: string;
  readonly capabilities: DriverCapabilities;
  readonly #driver: DriverTopic;
  readonly #ordering: boolean;
  readonly #batch: { maxMessages: number; maxBytes: number; maxLatencyMs: number; maxConcurrentBatches: number };
  readonly #flow: { maxOutstandingMessages: number; maxOutstandingBytes: number; limitExceeded: "block" | "fail" };
  readonly #retry: { attempts: number; initialDelayMs: number; maxDelayMs: number };
  readonly #counters: Counters = emptyCounters();
  readonly #publish: PublishNext;
  readonly #keys = new KeyQueues();
  readonly #pauseListeners = new Set<(event: PauseEvent) => void>();

  /** Unordered messages waiting to be batched. */
  #unordered: Pending[] = [];
  #unorderedHead = 0;
  #batchesInFlight = 0;
  #flushScheduled = false;
  #outstandingMessages = 0;
  #outstandingBytes = 0;
  /** Publishers blocked by flow control, FIFO from #blockedHead. */
  #blocked: Array<{ size: number; admit: () => void }> = [];
  #blockedHead = 0;
  readonly #idleWaiters: Array<() => void> = [];
  #closing: Promise<void> | undefined;

  /** @internal Use openTopic(). */
  constructor(url: string, driver: DriverTopic, options: z.output<typeof topicOptionsSchema>) {
    this.url = url;
    this.#driver = driver;
    this.capabilities = driver.capabilities;
    this.#ordering = options.ordering ?? false;
    this.#batch = { ...defaults.batching, ...options.batching };
    this.#flow = { ...defaults.flowControl, ...options.flowControl };
    this.#retry = { ...defaults.publishRetry, ...options.retry };
    if (options.onPause) this.#pauseListeners.add(options.onPause);
    const context = { topic: url, capabilities: driver.capabilities, counters: this.#counters };
    let chain: PublishNext = (message, publishOptions) => this.#accept(message, publishOptions);
    for (const middleware of [...(options.use ?? [])].reverse()) {
      if (!middleware.publish) {
        throw new InvalidOptionsError(`middleware ${middleware.name}() does not wrap publishing; use it on a subscription`);
      }
      chain = middleware.publish(chain, context);
    }
    this.#publish = chain;
  }

  /**
   * Publishes one message (a Message or the fields for createMessage). The result resolves to the message
   * id once the driver has it (with pubAck(), once the broker confirmed), or rejects with a coded error.
   * Ignoring a failed result does not crash the process.
   */
  publish(message: Message | MessageInit): PublishResult {
    let msg: Message;
    try {
      msg = message instanceof Message ? message : createMessage(message);
    } catch (error) {
      return new PublishResult(undefined, Promise.reject(error));
    }
    return new PublishResult(msg.id, this.#publish(msg, NO_CONFIRM));
  }

  /** Unpauses an ordering key so publishing it works again. Returns false if the key was not paused. */
  resume(orderingKey: string): boolean {
    return this.#keys.resume(orderingKey);
  }

  /**
   * Unpauses `orderingKey` (if paused) and publishes `messages` on it first, in order: anything published
   * after this call returns is queued behind them, so nothing can overtake a resend. Each message must carry
   * `orderingKey`. Returns their results in order; if one fails, the key pauses again and the ones behind it
   * reject with OrderingKeyPausedError, as for any publish.
   */
  resumeWith(orderingKey: string, messages: readonly Message[]): PublishResult[] {
    const stray = messages.find((m) => m.orderingKey !== orderingKey);
    if (stray) throw new InvalidOptionsError(`message ${stray.id} does not have the ordering key ${JSON.stringify(orderingKey)}`);
    this.#keys.resume(orderingKey);
    return messages.map((m) => this.publish(m));
  }

  /**
   * Pauses `orderingKey` as a failed send would, for a reason found outside this topic (e.g. another process
   * publishing the same key failed): messages queued for the key reject with OrderingKeyPausedError carrying
   * `cause`, later publishes fail at once until resume(), and pause listeners hear of it. A batch already in
   * flight completes. Returns false (and does nothing) if the key is already paused.
   */
  pause(orderingKey: string, cause: unknown): boolean {
    if (!this.#ordering || this.#keys.isPaused(orderingKey)) return false;
    this.#pause(orderingKey, cause, []);
    return true;
  }

  /** The ordering keys currently paused, with the error that paused each. */
  pausedKeys(): PausedKey[] {
    return this.#keys.pausedKeys();
  }

  /** Calls `listener` whenever an ordering key pauses. Returns a function that removes the listener. */
  onPause(listener: (event: PauseEvent) => void): () => void {
    this.#pauseListeners.add(listener);
    return () => this.#pauseListeners.delete(listener);
  }

  /** A copy of the counters (maintained by the count() middleware). */
  stats(): Counters {
    return { ...this.#counters };
  }

  /** Sends everything accepted so far and resolves when all of it is settled (resolved or rejected). */
  async flush(): Promise<void> {
    if (this.#outstandingMessages === 0) return;
    this.#dispatch();
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops accepting messages, flushes what was accepted, and closes the driver. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.flush();
      await this.#driver.close();
    })();
    return this.#closing;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Innermost publish step: checks, flow control, then queues the message for batching. */
  #accept(message: Message, options: PublishOptions): Promise<string> {
    if (this.#closing) return Promise.reject(new TopicClosedError(this.url));
    const key = message.orderingKey;
    if (key !== undefined) {
      if (!this.#ordering) return Promise.reject(new OrderingNotEnabledError(this.url));
      const paused = this.#keys.isPaused(key);
      if (paused) return Promise.reject(new OrderingKeyPausedError(key, paused.error));
    }
    const size = message.size;
    return new Promise<string>((resolve, reject) => {
      const pending: Pending = { message, size, confirm: options.confirm, resolve, reject };
      const enqueue = () => this.#enqueue(pending, key);
      if (this.#hasRoom(size)) {
        this.#reserve(size);
        enqueue();
      } else if (this.#flow.limitExceeded === "fail") {
        reject(
          new FlowControlError(
            `${this.#outstandingMessages} messages / ${this.#outstandingBytes} bytes outstanding (limits ${this.#flow.maxOutstandingMessages} / ${this.#flow.maxOutstandingBytes})`,
          ),
        );
      } else {
        this.#blocked.push({
          size,
          admit: () => {
            // The key may have paused while this publisher waited.
            const pausedNow = key === undefined ? undefined : this.#keys.isPaused(key);
            if (pausedNow) {
              this.#release(1, size);
              reject(new OrderingKeyPausedError(key!, pausedNow.error));
            } else enqueue();
          },
        });
        this.#dispatch();
      }
    });
  }

  #hasRoom(size: number): boolean {
    if (this.#blockedHead < this.#blocked.length) return false; // FIFO: nobody overtakes a blocked publisher
    if (this.#outstandingMessages === 0) return true; // a single oversize message still goes (the driver judges it)
    return (
      this.#outstandingMessages + 1 <= this.#flow.maxOutstandingMessages &&
      this.#outstandingBytes + size <= this.#flow.maxOutstandingBytes
    );
  }

  #reserve(size: number): void {
    this.#outstandingMessages++;
    this.#outstandingBytes += size;
  }

  #release(count: number, bytes: number): void {
    this.#outstandingMessages -= count;
    this.#outstandingBytes -= bytes;
    while (this.#blockedHead < this.#blocked.length) {
      const next = this.#blocked[this.#blockedHead]!;
      const fits =
        this.#outstandingMessages === 0 ||
        (this.#outstandingMessages + 1 <= this.#flow.maxOutstandingMessages &&
          this.#outstandingBytes + next.size <= this.#flow.maxOutstandingBytes);
      if (!fits) break;
      if (++this.#blockedHead === this.#blocked.length) {
        this.#blocked = [];
        this.#blockedHead = 0;
      } else if (this.#blockedHead > 4096 && this.#blockedHead * 2 > this.#blocked.length) {
        this.#blocked = this.#blocked.slice(this.#blockedHead);
        this.#blockedHead = 0;
      }
      this.#reserve(next.size);
      next.admit();
    }
    if (this.#outstandingMessages === 0 && this.#idleWaiters.length > 0) {
      for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }

  #enqueue(pending: Pending, key: string | undefined): void {
    if (key === undefined) this.#unordered.push(pending);
    else this.#keys.enqueue(key, pending);
    const full =
      key === undefined && this.#unordered.length - this.#unorderedHead >= this.#batch.maxMessages;
    if (full) this.#dispatch();
    else this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    const run = () => {
      this.#flushScheduled = false;
      this.#dispatch();
    };
    if (this.#batch.maxLatencyMs === 0) setImmediate(run);
    else setTimeout(run, this.#batch.maxLatencyMs);
  }

  /** Starts every batch that may start now: unordered ones up to the concurrency limit, one per ready key. */
  #dispatch(): void {
    const { maxMessages, maxBytes, maxConcurrentBatches } = this.#batch;
    while (this.#unorderedHead < this.#unordered.length && this.#batchesInFlight < maxConcurrentBatches) {
      const batch = takeWithin(this.#unordered, this.#unorderedHead, maxMessages, maxBytes);
      this.#unorderedHead += batch.length;
      if (this.#unorderedHead === this.#unordered.length) {
        this.#unordered = [];
        this.#unorderedHead = 0;
      }
      void this.#send(batch, UNORDERED);
    }
    for (const key of [...this.#keys.ready]) {
      void this.#send(this.#keys.take(key, maxMessages, maxBytes), key);
    }
  }

  /** Sends one batch with retries; settles its messages; on failure of an ordered batch pauses the key. */
  async #send(batch: Pending[], key: string): Promise<void> {
    if (batch.length === 0) return;
    const ordered = key !== UNORDERED;
    if (!ordered) this.#batchesInFlight++;
    let bytes = 0;
    for (const p of batch) bytes += p.size;
    try {
      const failed = await sendSettling(this.#driver, batch, { ordered, retry: this.#retry, topic: this.url });
      if (failed) this.#pause(key, failed.error, failed.rest);
    } finally {
      if (ordered) this.#keys.finish(key);
      else this.#batchesInFlight--;
      this.#release(batch.length, bytes);
      if (this.#outstandingMessages > 0) this.#dispatch();
    }
  }

  #pause(key: string, error: unknown, failed: Pending[]): void {
    const rejected = [...failed, ...this.#keys.pause(key, error)];
    const pausedError = new OrderingKeyPausedError(key, error);
    let queuedBytes = 0;
    for (let i = failed.length; i < rejected.length; i++) queuedBytes += rejected[i]!.size;
    for (const p of rejected) p.reject(pausedError);
    // The failed batch is released by #send; the queued messages behind it are released here.
    if (rejected.length > failed.length) this.#release(rejected.length - failed.length, queuedBytes);
    const paused = this.#keys.isPaused(key)!;
    const event: PauseEvent = { ...paused, messages: rejected.map((p) => p.message) };
    for (const listener of this.#pauseListeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure must not stop the topic; listeners own their errors.
      }
    }
  }
}

/** Opens a topic by URL; the scheme picks the driver. Throws UnknownDriverError, InvalidUrlError, InvalidOptionsError. */
export async function openTopic(url: string | URL, options: TopicOptions = {}): Promise<Topic> {
  const parsed = topicOptionsSchema.safeParse(options);
  if (!parsed.success) throw new InvalidOptionsError(z.prettifyError(parsed.error), { cause: parsed.error });
  const { url: resolved, driver } = await resolveDriver(url);
  const driverTopic = await driver.openTopic(resolved, { driver: parsed.data.driver });
  try {
    return new Topic(resolved.href, driverTopic, parsed.data);
  } catch (error) {
    await driverTopic.close();
    throw error;
  }
}
