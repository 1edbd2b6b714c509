import type pg from "pg";
import type { Message } from "@whisper/core";
import type { MessageSummary } from "@/server/services/types";
import { BatchWriter } from "./batch-writer";
import { Preparer } from "./preparer";
import { historyDefaults } from "./defaults";
import { Retention, type RetentionReport, type RetentionSettings } from "./retention";
import { TopicWatch, type RecorderTopicStats, type WatchSettings } from "./topic-watch";
import { pruneMinutes, type InsertMethod } from "./writer";

export type { RecorderTopicStats } from "./topic-watch";

/** Options of the Recorder; every default is in historyDefaults.recorder (defaults.ts) with its reason. */
export interface RecorderOptions {
  /** Where rows go (search_path = the history schema; see server/db.ts createPool). Not closed by the recorder. */
  pool: pg.Pool;
  /** Called after each committed batch with the rows that were new (redelivered duplicates left out), in order. */
  onRecorded?(topic: string, summaries: MessageSummary[]): void;
  /** Called for every problem the recorder survives (database down, a message that cannot be stored, …). */
  onError?(error: unknown, context: { topic: string; what: string }): void;
  /** The shared subscription name: replicas with the same name split the traffic. */
  subscriptionName?: string;
  /** Rows per insert. */
  batchSize?: number;
  /** A partial batch is written this long after its oldest message arrived. */
  maxLatencyMs?: number;
  /** Messages held per topic, unacked, before the subscription stops pulling. */
  maxOutstanding?: number;
  /** Data bytes held per topic before the recorder stops taking messages: the bound for large messages. */
  maxHeldBytes?: number;
  /** Batches of one topic being written at once; the next batch fills meanwhile. */
  maxInFlightBatches?: number;
  /** Inserts in flight at once across topics. */
  maxConcurrentWrites?: number;
  /** An insert statement running longer than this is cancelled and retried. */
  statementTimeoutMs?: number;
  /** See InsertMethod. */
  method?: InsertMethod;
  /** Backoff between retries while the database or the subscription fails. */
  retryInitialDelayMs?: number;
  retryMaxDelayMs?: number;
  /** How long close()/unwatch() wait for held batches to commit before nacking them. */
  closeTimeoutMs?: number;
  /**
   * Redelivery delay asked for when giving messages back on close. Not 0: a broker may hand an
   * immediately nacked message straight back to the subscription being closed (JetStream's pending pulls),
   * where it would then wait out the whole ack deadline.
   */
  giveBackDelayMs?: number;
  /** Ack deadline passed to the subscription (driver default when unset). */
  ackDeadlineMs?: number;
  /**
   * The broker sequence of a delivery; the default is the core's (JetStream's stream sequence). A function given
   * here makes every delivery decoded on the recorder's thread as well.
   */
  sequenceOf?(message: Message): bigint | number | null | undefined;
  /**
   * Decode deliveries and build their COPY text in a worker thread (preparer.ts), the recorder's thread only
   * receiving, writing and acking; false: everything in this thread.
   */
  threads?: boolean;
  /** Batches with fewer rows are prepared in this thread (default: half of batchSize; see defaults.ts). */
  workerMinBatch?: number;
  /** Enforce retention in the background (retention.ts) with these settings; none when absent. */
  retention?: RetentionSettings;
}

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

/**
 * Records every message of the watched topics into `messages`.
 *
 * Contract:
 * - one subscription per topic, named after `subscriptionName` (a durable consumer on JetStream, a queue group
 *   on NATS), so replicas share the work;
 * - rows are inserted in batches, idempotent on id (a redelivered message never makes a second row), and a
 *   message is acked only after the transaction holding its row committed (TopicWatch, BatchWriter); a
 *   database outage loses nothing the broker keeps: batches are retried with backoff until they commit;
 * - memory is bounded per topic (maxOutstanding deliveries, about maxHeldBytes of data);
 * - a message history cannot store verbatim (storable.ts: NUL, unpaired surrogates, over-long keys) is
 *   recorded with those values escaped and the extension `recorderror` saying so, counted as `escaped` and
 *   reported; a row Postgres still refuses for its content is acked, counted as rejected and reported
 *   (retrying could never succeed): nothing is dropped silently;
 * - with `retention`, old rows are deleted in the background (Retention) while recording goes on;
 * - stats() tells per topic what is held, since when, and what is failing now, so the dashboard can say when
 *   recording is behind instead of stalling quietly.
 */
export class Recorder {
  readonly #options: RecorderOptions;
  readonly #settings: WatchSettings;
  readonly #writer: BatchWriter;
  readonly #preparer: Preparer;
  readonly #watches = new Map<string, TopicWatch>();
  readonly #retention: Retention | undefined;
  #closed = false;
  #lastPrune = 0;

  constructor(options: RecorderOptions) {
    const d = historyDefaults.recorder;
    const batchSize = options.batchSize ?? d.batchSize;
    const maxOutstanding = options.maxOutstanding ?? batchSize * d.outstandingBatches;
    if (!(batchSize >= 1 && maxOutstanding >= batchSize)) {
      throw new RangeError("batchSize must be ≥ 1 and maxOutstanding ≥ batchSize");
    }
    const retry = { initialDelayMs: options.retryInitialDelayMs ?? d.retryInitialDelayMs, maxDelayMs: options.retryMaxDelayMs ?? d.retryMaxDelayMs };
    this.#options = options;
    this.#settings = {
      subscriptionName: options.subscriptionName ?? d.subscriptionName,
      batchSize,
      maxLatencyMs: options.maxLatencyMs ?? d.maxLatencyMs,
      maxOutstanding,
      maxHeldBytes: options.maxHeldBytes ?? d.maxHeldBytes,
      maxInFlightBatches: options.maxInFlightBatches ?? d.maxInFlightBatches,
      closeTimeoutMs: options.closeTimeoutMs ?? d.closeTimeoutMs,
      giveBackDelayMs: options.giveBackDelayMs ?? d.giveBackDelayMs,
      ackDeadlineMs: options.ackDeadlineMs,
      retry,
      ...(options.sequenceOf ? { sequenceOf: options.sequenceOf } : {}),
    };
    this.#preparer = new Preparer({
      threads: options.threads ?? d.threads,
      minWorkerBatch: options.workerMinBatch ?? Math.ceil(batchSize * d.workerMinBatchShare),
      report: (e) => this.#report(e, "*", "worker thread (batches prepared in this thread meanwhile)"),
    });
    this.#writer = new BatchWriter({
      pool: options.pool,
      method: options.method ?? d.method,
      maxConcurrentWrites: options.maxConcurrentWrites ?? d.maxConcurrentWrites,
      statementTimeoutMs: options.statementTimeoutMs ?? d.statementTimeoutMs,
      retry,
    });
    if (options.pool.listenerCount("error") === 0) options.pool.on("error", (e) => this.#report(e, "*", "idle connection"));
    if (options.retention) {
      this.#retention = new Retention(options.pool, options.retention, (e) => this.#report(e, "*", "retention"));
      this.#retention.start();
    }
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
    const watch = new TopicWatch(topicName, topicUrl, {
      settings: { ...this.#settings, subscriptionName: recorderSubscriptionName(this.#settings.subscriptionName, topicName) },
      writer: this.#writer,
      preparer: this.#preparer,
      report: (error, what) => this.#report(error, topicName, what),
      onCommitted: (summaries) => {
        this.#options.onRecorded?.(topicName, summaries);
        this.#maybePrune();
      },
    });
    this.#watches.set(topicName, watch);
    this.#preparer.warmUp();
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

  /** unwatch() for every topic and stops retention. The pool stays open (it is the caller's). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#watches.keys()].map((t) => this.unwatch(t)));
    await this.#preparer.close();
    await this.#retention?.stop();
  }

  /** Runs a retention pass now (undefined when the recorder enforces no retention). */
  async enforceRetention(): Promise<RetentionReport | undefined> {
    return this.#retention?.runOnce();
  }

  /** The topics being recorded. */
  watched(): string[] {
    return [...this.#watches.keys()];
  }

  stats(): RecorderTopicStats[] {
    return [...this.#watches.values()].map((w) => w.stats());
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
        [topic, recorderSubscriptionName(this.#settings.subscriptionName, topic), url],
      );
    } catch (error) {
      this.#report(error, topic, "register subscription");
    }
  }

  #maybePrune(): void {
    const now = Date.now();
    if (now - this.#lastPrune < historyDefaults.recorder.pruneMinutesEveryMs) return;
    this.#lastPrune = now;
    pruneMinutes(this.#options.pool).catch((e) => this.#report(e, "*", "prune topic_minutes"));
  }
}
