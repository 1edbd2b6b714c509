import type pg from "pg";
import { openSubscription, type ReceivedMessage, type Subscription } from "@/server/whisper";
import type { MessageSummary } from "@/server/services/types";
import { messageRow, summaryOf, type MessageRow } from "./rows";
import { insertBatch, insertEach, isDataError, pruneMinutes, type InsertMethod } from "./writer";

export interface RecorderOptions {
  /** Where rows go (search_path = the history schema; see server/db.ts createPool). Not closed by the recorder. */
  pool: pg.Pool;
  /** Called after each committed batch with the rows that were new (redelivered duplicates left out), in order. */
  onRecorded?(topic: string, summaries: MessageSummary[]): void;
  /** Called for every problem the recorder survives (database down, a message that cannot be stored, …). */
  onError?(error: unknown, context: { topic: string; what: string }): void;
  /** The shared subscription name: replicas with the same name split the traffic (default "whisper-recorder"). */
  subscriptionName?: string;
  /** Rows per insert (default 1000). */
  batchSize?: number;
  /** A partial batch is written after this long (default 50 ms). */
  maxLatencyMs?: number;
  /** Messages held per topic, unacked, before the subscription stops pulling (default 4 × batchSize). */
  maxOutstanding?: number;
  /** Data bytes held per topic before the recorder stops taking messages (default 64 MiB): the bound for large messages. */
  maxHeldBytes?: number;
  /** Inserts in flight at once across topics (default 2). */
  maxConcurrentWrites?: number;
  /** See InsertMethod (default "copy"). */
  method?: InsertMethod;
  /** Backoff between retries while the database fails (default 100 ms doubling to 5 s). */
  retryInitialDelayMs?: number;
  retryMaxDelayMs?: number;
  /** How long close()/unwatch() wait for held batches to commit before nacking them (default 10 s). */
  closeTimeoutMs?: number;
  /**
   * Redelivery delay asked for when giving messages back on close (default 1 s). Not 0: a broker may hand an
   * immediately nacked message straight back to the subscription being closed (JetStream's pending pulls),
   * where it would then wait out the whole ack deadline.
   */
  giveBackDelayMs?: number;
  /** Ack deadline passed to the subscription (driver default when unset). */
  ackDeadlineMs?: number;
  /** The broker sequence of a delivery; the default reads a numeric `seq` from the driver's ack handle (JetStream). */
  sequenceOf?(message: ReceivedMessage): bigint | number | null | undefined;
}

export interface RecorderTopicStats {
  topic: string;
  url: string;
  /** Deliveries taken from the subscription (redeliveries included). */
  received: number;
  /** Rows inserted. */
  recorded: number;
  /** Deliveries whose id was already recorded (redeliveries). */
  duplicates: number;
  /** Messages that can never be stored (data errors); acked and reported through onError. */
  rejected: number;
  acked: number;
  nacked: number;
  /** Deliveries held now: in the open batch or waiting for their insert to commit. */
  held: number;
  /** Data bytes of the held deliveries. */
  heldBytes: number;
  /** Failed insert attempts that were retried. */
  retries: number;
  lastError: string | null;
  lastCommitAt: string | null;
}

type Held = { message: ReceivedMessage; row: MessageRow };

/**
 * Records every message of the watched topics into `messages`.
 *
 * Contract:
 * - one subscription per topic, named `subscriptionName` (a durable consumer on JetStream, a queue group on
 *   NATS), so replicas share the work;
 * - messages are inserted in batches (batchSize / maxLatencyMs), idempotent on id: a redelivered message
 *   never makes a second row;
 * - a message is acked only after the transaction holding its row committed; if the database fails the
 *   batch is retried with backoff, unacked, for as long as it takes (or until close, which nacks it), so a
 *   Postgres outage loses nothing the broker keeps;
 * - memory is bounded: at most maxOutstanding deliveries (and about maxHeldBytes of data) are held per
 *   topic; beyond that the recorder stops taking messages and the broker holds the rest (backpressure);
 * - a message whose row Postgres refuses for its content (e.g. NUL in an attribute) is acked, counted as
 *   rejected and reported: retrying could never succeed;
 * - onRecorded runs after commit, with only the newly inserted rows.
 */
/**
 * The recorder's subscription name for one topic: one durable consumer per topic (topics may share a
 * JetStream stream, where one durable name can filter only one subject), in the characters every driver
 * accepts; a short hash keeps two names that sanitise alike apart.
 */
export function recorderSubscriptionName(base: string, topic: string): string {
  const safe = topic.replace(/[^A-Za-z0-9_-]/g, "_");
  if (safe === topic) return `${base}-${topic}`;
  let hash = 0;
  for (const ch of topic) hash = (Math.imul(hash, 31) + ch.codePointAt(0)!) >>> 0;
  return `${base}-${safe}-${hash.toString(36)}`;
}

export class Recorder {
  readonly #options: Required<Omit<RecorderOptions, "onRecorded" | "onError" | "ackDeadlineMs">> &
    Pick<RecorderOptions, "onRecorded" | "onError" | "ackDeadlineMs">;
  readonly #watches = new Map<string, TopicWatch>();
  readonly #writeSlots: Semaphore;
  #closed = false;
  #lastPrune = 0;

  constructor(options: RecorderOptions) {
    const batchSize = options.batchSize ?? 1000;
    this.#options = {
      subscriptionName: "whisper-recorder",
      maxLatencyMs: 50,
      maxOutstanding: batchSize * 4,
      maxHeldBytes: 64 * 1024 * 1024,
      maxConcurrentWrites: 2,
      method: "copy",
      retryInitialDelayMs: 100,
      retryMaxDelayMs: 5_000,
      closeTimeoutMs: 10_000,
      giveBackDelayMs: 1_000,
      sequenceOf: defaultSequenceOf,
      ...options,
      batchSize,
    };
    if (!(batchSize >= 1 && this.#options.maxOutstanding >= batchSize)) {
      throw new RangeError("batchSize must be ≥ 1 and maxOutstanding ≥ batchSize");
    }
    this.#writeSlots = new Semaphore(this.#options.maxConcurrentWrites);
    if (options.pool.listenerCount("error") === 0) options.pool.on("error", (e) => this.#report(e, "*", "idle connection"));
  }

  /**
   * Starts recording `topicName` from `topicUrl`. Resolves once subscribed; rejects if the subscription
   * cannot be opened (bad URL, broker unreachable). Watching a topic again with the same URL does nothing;
   * with another URL it replaces the old watch. If the subscription later fails it is reopened with backoff.
   */
  async watch(topicName: string, topicUrl: string): Promise<void> {
    if (this.#closed) throw new Error("recorder is closed");
    const existing = this.#watches.get(topicName);
    if (existing?.url === topicUrl) return;
    if (existing) await this.unwatch(topicName);
    const watch = new TopicWatch(topicName, topicUrl, this);
    this.#watches.set(topicName, watch);
    try {
      await watch.start();
    } catch (error) {
      this.#watches.delete(topicName);
      throw error;
    }
    await this.#registerSubscription(topicName, topicUrl);
  }

  /** Stops recording a topic: writes what it holds (bounded by closeTimeoutMs, else nacks it), closes the subscription. */
  async unwatch(topicName: string): Promise<void> {
    const watch = this.#watches.get(topicName);
    if (!watch) return;
    this.#watches.delete(topicName);
    await watch.stop();
  }

  /** unwatch() for every topic. The pool stays open (it is the caller's). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#watches.keys()].map((t) => this.unwatch(t)));
  }

  /** The topics being recorded. */
  watched(): string[] {
    return [...this.#watches.keys()];
  }

  stats(): RecorderTopicStats[] {
    return [...this.#watches.values()].map((w) => w.stats());
  }

  /** @internal */
  get options() {
    return this.#options;
  }

  /**
   * @internal Writes one batch until it commits (then acks) or `signal` aborts (then nacks). Never rejects.
   */
  async write(watch: TopicWatch, batch: Held[], signal: AbortSignal): Promise<void> {
    const { pool, method, retryInitialDelayMs, retryMaxDelayMs } = this.#options;
    const rows = batch.map((h) => h.row);
    // Waiting for a slot ends when this watch gives up, even if other topics' writes hold every slot.
    if (!(await this.#writeSlots.acquire(signal))) return watch.giveBack(batch);
    try {
      for (let attempt = 1; ; attempt++) {
        // Given up (closing): start no new insert, hand the batch back for redelivery.
        if (signal.aborted) return watch.giveBack(batch);
        let client: pg.PoolClient | undefined;
        try {
          client = await connectUnlessAborted(pool, signal);
          if (client === undefined) return watch.giveBack(batch);
          let inserted: MessageRow[];
          let rejected: { row: MessageRow; error: unknown }[] = [];
          try {
            inserted = await insertBatch(client, rows, method);
          } catch (error) {
            if (!isDataError(error)) throw error;
            ({ inserted, rejected } = await insertEach(client, rows));
          }
          client.release();
          client = undefined;
          watch.committed(batch, inserted, rejected);
          this.#maybePrune();
          return;
        } catch (error) {
          // The connection may be broken: never hand it back to the pool for reuse.
          client?.release(error instanceof Error ? error : true);
          watch.failedAttempt(error);
          if (signal.aborted) return watch.giveBack(batch);
          const ceiling = Math.min(retryMaxDelayMs, retryInitialDelayMs * 2 ** Math.min(attempt - 1, 20));
          await delay(ceiling / 2 + (Math.random() * ceiling) / 2, signal);
          if (signal.aborted) return watch.giveBack(batch);
        }
      }
    } finally {
      this.#writeSlots.release();
    }
  }

  /** @internal */
  report(error: unknown, topic: string, what: string): void {
    this.#report(error, topic, what);
  }

  #report(error: unknown, topic: string, what: string): void {
    try {
      this.#options.onError?.(error, { topic, what });
    } catch {
      // The reporter's own failure must not stop recording.
    }
  }

  /** Best effort: lists the recorder's subscription in `subscriptions` (the topics page shows it). */
  async #registerSubscription(topic: string, url: string): Promise<void> {
    try {
      await this.#options.pool.query(
        "INSERT INTO subscriptions (topic, name, url) VALUES ($1, $2, $3) ON CONFLICT (topic, name) DO UPDATE SET url = EXCLUDED.url",
        [topic, recorderSubscriptionName(this.#options.subscriptionName, topic), url],
      );
    } catch (error) {
      this.#report(error, topic, "register subscription");
    }
  }

  #maybePrune(): void {
    const now = Date.now();
    if (now - this.#lastPrune < 10 * 60_000) return;
    this.#lastPrune = now;
    pruneMinutes(this.#options.pool).catch((e) => this.#report(e, "*", "prune topic_minutes"));
  }
}

/** The recording of one topic: its subscription, the open batch, and the batches being written. */
class TopicWatch {
  readonly #recorder: Recorder;
  #subscription: Subscription | undefined;
  #batch: Held[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #writes = new Set<Promise<void>>();
  /** Aborted when stop() gives up waiting: pending writes then nack instead of retrying. */
  readonly #giveUp = new AbortController();
  #stopping = false;
  #bytesFreed: (() => void) | undefined;
  #loop: Promise<void> = Promise.resolve();
  readonly #stats: RecorderTopicStats;

  constructor(
    readonly topic: string,
    readonly url: string,
    recorder: Recorder,
  ) {
    this.#recorder = recorder;
    this.#stats = {
      topic,
      url,
      received: 0,
      recorded: 0,
      duplicates: 0,
      rejected: 0,
      acked: 0,
      nacked: 0,
      held: 0,
      heldBytes: 0,
      retries: 0,
      lastError: null,
      lastCommitAt: null,
    };
  }

  stats(): RecorderTopicStats {
    return { ...this.#stats };
  }

  async start(): Promise<void> {
    this.#subscription = await this.#open();
    this.#loop = this.#run();
  }

  #open(): Promise<Subscription> {
    const o = this.#recorder.options;
    return openSubscription(this.url, {
      name: recorderSubscriptionName(o.subscriptionName, this.topic),
      maxOutstanding: o.maxOutstanding,
      maxBatch: o.batchSize,
      ...(o.ackDeadlineMs === undefined ? {} : { ackDeadlineMs: o.ackDeadlineMs }),
    });
  }

  /** Pulls until stopped; if the subscription fails, reports, waits and reopens it. */
  async #run(): Promise<void> {
    const o = this.#recorder.options;
    for (let failures = 0; !this.#stopping; ) {
      const subscription = this.#subscription;
      try {
        if (!subscription) throw new Error("not subscribed");
        for await (const message of subscription) {
          if (this.#stopping) {
            message.nack(o.giveBackDelayMs);
            this.#stats.nacked++;
            continue;
          }
          this.#add(message);
          failures = 0;
          if (this.#stats.heldBytes >= o.maxHeldBytes) await this.#roomForBytes();
        }
        if (this.#stopping) return;
        throw new Error("the subscription ended unexpectedly");
      } catch (error) {
        if (this.#stopping) return;
        this.#recorder.report(error, this.topic, "subscription");
        this.#flush();
        await subscription?.close().catch(() => {});
        this.#subscription = undefined;
        const wait = Math.min(o.retryMaxDelayMs, o.retryInitialDelayMs * 2 ** Math.min(failures++, 20));
        await delay(wait, this.#giveUp.signal);
        if (this.#stopping) return;
        try {
          const reopened = await this.#open();
          if (this.#stopping) {
            await reopened.close().catch(() => {});
            return;
          }
          this.#subscription = reopened;
        } catch (openError) {
          this.#recorder.report(openError, this.topic, "reopen subscription");
        }
      }
    }
  }

  /** Waits (not pulling) until committed or given-back batches bring the held bytes under the limit. */
  async #roomForBytes(): Promise<void> {
    this.#flush();
    while (this.#stats.heldBytes >= this.#recorder.options.maxHeldBytes && !this.#stopping) {
      await new Promise<void>((resolve) => (this.#bytesFreed = resolve));
    }
  }

  #freed(batch: Held[]): void {
    const s = this.#stats;
    s.held -= batch.length;
    for (const h of batch) s.heldBytes -= h.row.size;
    const wake = this.#bytesFreed;
    this.#bytesFreed = undefined;
    wake?.();
  }

  #add(message: ReceivedMessage): void {
    const o = this.#recorder.options;
    this.#stats.received++;
    this.#stats.held++;
    let sequence: bigint | number | null | undefined;
    try {
      sequence = o.sequenceOf(message);
    } catch {
      sequence = null;
    }
    const row = messageRow(message, this.topic, new Date(), sequence);
    this.#stats.heldBytes += row.size;
    this.#batch.push({ message, row });
    if (this.#batch.length >= o.batchSize) this.#flush();
    else if (this.#batch.length === 1) {
      this.#timer = setTimeout(() => this.#flush(), o.maxLatencyMs);
      this.#timer.unref?.();
    }
  }

  /** Hands the open batch to the writer. */
  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#batch;
    if (batch.length === 0) return;
    this.#batch = [];
    const write = this.#recorder.write(this, batch, this.#giveUp.signal);
    this.#writes.add(write);
    void write.finally(() => this.#writes.delete(write));
  }

  /** Called by the writer after COMMIT: ack everything in the batch, report new rows. */
  committed(batch: Held[], inserted: MessageRow[], rejected: { row: MessageRow; error: unknown }[]): void {
    for (const h of batch) h.message.ack();
    this.#freed(batch);
    const s = this.#stats;
    s.acked += batch.length;
    s.recorded += inserted.length;
    s.rejected += rejected.length;
    s.duplicates += batch.length - inserted.length - rejected.length;
    s.lastCommitAt = new Date().toISOString();
    for (const { row, error } of rejected) {
      this.#recorder.report(error, this.topic, `message ${row.id} cannot be stored; it was acked without a history row`);
    }
    const onRecorded = this.#recorder.options.onRecorded;
    if (onRecorded && inserted.length > 0) {
      try {
        onRecorded(this.topic, inserted.map(summaryOf));
      } catch (error) {
        this.#recorder.report(error, this.topic, "onRecorded");
      }
    }
  }

  failedAttempt(error: unknown): void {
    this.#stats.retries++;
    this.#stats.lastError = error instanceof Error ? error.message : String(error);
    this.#recorder.report(error, this.topic, "insert (will retry)");
  }

  /** Gives up on a batch (stopping): nack it so the broker redelivers it to another recorder or later. */
  giveBack(batch: Held[]): void {
    const delayMs = this.#recorder.options.giveBackDelayMs;
    for (const h of batch) h.message.nack(delayMs);
    this.#freed(batch);
    this.#stats.nacked += batch.length;
  }

  /** Stops pulling, writes the open batch, waits up to closeTimeoutMs for writes, nacks the rest, closes. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#bytesFreed?.();
    this.#flush();
    const timeout = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, this.#recorder.options.closeTimeoutMs);
      t.unref?.();
    });
    await Promise.race([Promise.all([...this.#writes]), timeout]);
    this.#giveUp.abort();
    await Promise.all([...this.#writes]);
    await this.#subscription?.close().catch((error) => this.#recorder.report(error, this.topic, "close subscription"));
    await this.#loop;
  }
}

/** A counting semaphore, FIFO. acquire() resolves true with a slot, or false (no slot) if `signal` aborts first. */
class Semaphore {
  #free: number;
  readonly #waiting: Array<() => boolean> = [];
  constructor(slots: number) {
    this.#free = slots;
  }
  acquire(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      let settled = false;
      const onAbort = () => {
        settled = true;
        resolve(false);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      // Called by release(): takes the slot unless this waiter already gave up (then the slot goes on).
      this.#waiting.push(() => {
        signal.removeEventListener("abort", onAbort);
        if (settled) return false;
        settled = true;
        resolve(true);
        return true;
      });
    });
  }
  release(): void {
    while (this.#waiting.length > 0) if (this.#waiting.shift()!()) return;
    this.#free++;
  }
}

/**
 * A pooled connection, or undefined if `signal` aborts first (a connection that arrives later is released
 * at once), so giving up never waits for a database that does not answer.
 */
async function connectUnlessAborted(pool: pg.Pool, signal: AbortSignal): Promise<pg.PoolClient | undefined> {
  const connecting = pool.connect();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const client = await Promise.race([connecting, aborted]);
    if (client === undefined) connecting.then((c) => c.release(), () => {});
    return client;
  } finally {
    signal.removeEventListener("abort", onAbort!);
  }
}

/** Resolves after `ms` or as soon as `signal` aborts; never keeps the process alive. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref?.();
    signal.addEventListener("abort", done, { once: true });
  });
}

function defaultSequenceOf(message: ReceivedMessage): bigint | number | null {
  const handle = message.ackId as { seq?: unknown } | null | undefined;
  const seq = typeof handle === "object" && handle !== null ? handle.seq : undefined;
  return typeof seq === "number" || typeof seq === "bigint" ? seq : null;
}
