import { decodeEncoded, encodedSize, openSubscription, type EncodedDelivery, type Message, type Subscription } from "@whisper/core";
import type { MessageSummary } from "@/server/services/types";
import type { BatchWriter, WriteOutcome } from "./batch-writer";
import { CommitTurn } from "./commit-turn";
import type { Prepared, PrepareItem } from "./prepare";
import { rowsOf } from "./prepare";
import type { Preparer } from "./preparer";
import { pause, retryDelay, type RetryTiming } from "./retry";
import { summaryOf } from "./rows";

/** How one topic is recorded (the Recorder's options, resolved). */
export interface WatchSettings {
  subscriptionName: string;
  batchSize: number;
  maxLatencyMs: number;
  maxOutstanding: number;
  maxHeldBytes: number;
  maxInFlightBatches: number;
  closeTimeoutMs: number;
  giveBackDelayMs: number;
  ackDeadlineMs?: number;
  retry: RetryTiming;
  /** The broker sequence of a delivery when not the core's (decodes every delivery on the receiving thread). */
  sequenceOf?(message: Message): bigint | number | null | undefined;
}

/** What a watch needs from its recorder. */
export interface WatchContext {
  settings: WatchSettings;
  writer: BatchWriter;
  /** Decodes deliveries and builds their COPY text (in a worker thread where it can). */
  preparer: Preparer;
  report(error: unknown, what: string): void;
  /** After each commit, with the rows that were new (redelivered duplicates left out), in order. */
  onCommitted(summaries: MessageSummary[]): void;
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
  /** Messages that can never be stored (data errors); acked and reported. */
  rejected: number;
  /** Rows recorded with changes because history cannot hold the message verbatim (storable.ts, `recorderror`). */
  escaped: number;
  acked: number;
  nacked: number;
  /** Deliveries held now: waiting for a write or for their insert to commit. */
  held: number;
  /** Bytes of the held deliveries as received (data, and headers where the protocol has them). */
  heldBytes: number;
  /** Inserts of this topic running now. */
  writesInFlight: number;
  /** Failed insert attempts that were retried. */
  retries: number;
  /** Batches decoded and turned into COPY text by the worker thread (the others by the recorder's own). */
  preparedInWorker: number;
  /** When the oldest held delivery arrived (null when nothing is held). */
  oldestHeldAt: string | null;
  /** What is failing right now ("insert: …", "subscription: …"); null when the last attempt of each succeeded. */
  failing: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  lastReceivedAt: string | null;
  lastCommitAt: string | null;
  /** When the watch started (its subscription opened). */
  startedAt: string;
}

/** The statistics of a watch that has done nothing yet. */
export function emptyStats(topic: string, url: string, startedAt = new Date()): RecorderTopicStats {
  return {
    topic,
    url,
    received: 0,
    recorded: 0,
    duplicates: 0,
    rejected: 0,
    escaped: 0,
    acked: 0,
    nacked: 0,
    held: 0,
    heldBytes: 0,
    writesInFlight: 0,
    retries: 0,
    preparedInWorker: 0,
    oldestHeldAt: null,
    failing: null,
    lastError: null,
    lastErrorAt: null,
    lastReceivedAt: null,
    lastCommitAt: null,
    startedAt: startedAt.toISOString(),
  };
}

type Held = { delivery: EncodedDelivery; arrivedAt: number; sequence: number | bigint | null; size: number };
type Failure = { what: "insert" | "subscription"; message: string };

/**
 * The recording of one topic: its subscription, the deliveries held, and the batches being written.
 *
 * Contract:
 * - pipelined: while up to maxInFlightBatches batches of this topic are being written, new deliveries keep
 *   arriving and form the next batch (full at batchSize, or due maxLatencyMs after its oldest delivery);
 * - in order: rows of a batch are in delivery order (by broker sequence where every delivery has one), and
 *   the batches of the topic commit in the order they were cut (commit-turn.ts), so the history's ingest
 *   sequence follows the broker's order, while two of them are written at once (the next one's transaction
 *   waits in Postgres for the topic lock the previous one holds);
 * - a delivery is acked only after the transaction holding its row committed; a batch is retried until it
 *   commits, or given back (nacked with giveBackDelayMs) when the watch stops and cannot wait any longer;
 * - bounded: the subscription holds at most maxOutstanding deliveries, and the watch stops taking messages
 *   while their data exceeds maxHeldBytes (the broker keeps the rest);
 * - never stops quietly: a failing insert or subscription is reported, shown in stats().failing until it
 *   recovers, and retried (the subscription is reopened) with the core's backoff, until stop().
 */
export class TopicWatch {
  readonly #context: WatchContext;
  #subscription: Subscription | undefined;
  readonly #queue: Held[] = [];
  readonly #inFlight = new Set<Held[]>();
  #timer: NodeJS.Timeout | undefined;
  /** Aborted when stop() gives up waiting: pending writes then give their batch back instead of retrying. */
  readonly #giveUp = new AbortController();
  #stopping = false;
  #wakeIntake: (() => void) | undefined;
  #wakeStop: (() => void) | undefined;
  #loop: Promise<void> = Promise.resolve();
  /** The commit turn of the last batch cut: the next batch commits after it. */
  #lastTurn: CommitTurn | undefined;
  #lastReceivedAt = 0;
  #failure: Failure | null = null;
  readonly #stats: RecorderTopicStats;

  constructor(
    readonly topic: string,
    readonly url: string,
    context: WatchContext,
  ) {
    this.#context = context;
    this.#stats = emptyStats(topic, url);
  }

  stats(): RecorderTopicStats {
    let oldest = this.#queue[0]?.arrivedAt ?? Infinity;
    for (const batch of this.#inFlight) oldest = Math.min(oldest, batch[0]?.arrivedAt ?? Infinity);
    return {
      ...this.#stats,
      lastReceivedAt: this.#lastReceivedAt > 0 ? new Date(this.#lastReceivedAt).toISOString() : null,
      writesInFlight: this.#inFlight.size,
      oldestHeldAt: Number.isFinite(oldest) ? new Date(oldest).toISOString() : null,
      failing: this.#failure && `${this.#failure.what}: ${this.#failure.message}`,
    };
  }

  /** Opens the subscription (rejects if it cannot be opened) and starts taking messages. */
  async start(): Promise<void> {
    this.#subscription = await this.#open();
    this.#loop = this.#run();
  }

  #open(): Promise<Subscription> {
    const s = this.#context.settings;
    return openSubscription(this.url, {
      name: s.subscriptionName,
      maxOutstanding: s.maxOutstanding,
      maxBatch: s.batchSize,
      ...(s.ackDeadlineMs === undefined ? {} : { ackDeadlineMs: s.ackDeadlineMs }),
    });
  }

  /** Takes messages until stopped; if the subscription fails, reports it, waits and reopens it. */
  async #run(): Promise<void> {
    const s = this.#context.settings;
    for (let failures = 0; !this.#stopping; ) {
      const subscription = this.#subscription;
      try {
        if (!subscription) throw new Error("not subscribed");
        // Undecoded: the deliveries are decoded where their batch is prepared (preparer.ts), not here.
        for await (const batch of subscription.encodedBatches()) {
          for (const delivery of batch) {
            if (this.#stopping) {
              delivery.nack(s.giveBackDelayMs);
              this.#stats.nacked++;
              continue;
            }
            this.#add(delivery);
            failures = 0;
            while (this.#stats.heldBytes >= s.maxHeldBytes && !this.#stopping) {
              await new Promise<void>((resolve) => (this.#wakeIntake = resolve));
            }
          }
        }
        if (this.#stopping) return;
        throw new Error("the subscription ended unexpectedly");
      } catch (error) {
        if (this.#stopping) return;
        this.#failed("subscription", error);
        await subscription?.close().catch(() => {});
        this.#subscription = undefined;
        await pause(retryDelay(++failures, s.retry), this.#giveUp.signal);
        if (this.#stopping) return;
        try {
          const reopened = await this.#open();
          if (this.#stopping) {
            await reopened.close().catch(() => {});
            return;
          }
          this.#subscription = reopened;
          if (this.#failure?.what === "subscription") this.#failure = null;
        } catch (openError) {
          this.#failed("subscription", openError);
        }
      }
    }
  }

  #add(delivery: EncodedDelivery): void {
    const s = this.#context.settings;
    const now = Date.now();
    let sequence: bigint | number | null | undefined = delivery.sequence;
    if (s.sequenceOf) {
      try {
        sequence = s.sequenceOf(decodeEncoded(delivery.encoded));
      } catch {
        sequence = null;
      }
    }
    const size = encodedSize(delivery.encoded);
    this.#stats.received++;
    this.#stats.held++;
    this.#stats.heldBytes += size;
    this.#lastReceivedAt = now;
    this.#queue.push({ delivery, arrivedAt: now, sequence: sequence ?? null, size });
    this.#pump();
  }

  /** Starts writes while there is room in flight and a batch is full, due, or the watch is stopping. */
  #pump(): void {
    const s = this.#context.settings;
    while (this.#inFlight.size < s.maxInFlightBatches && this.#queue.length > 0) {
      const due = this.#stopping || this.#queue.length >= s.batchSize || Date.now() - this.#queue[0]!.arrivedAt >= s.maxLatencyMs;
      if (!due) {
        this.#timer ??= setTimeout(() => {
          this.#timer = undefined;
          this.#pump();
        }, Math.max(1, this.#queue[0]!.arrivedAt + s.maxLatencyMs - Date.now()));
        this.#timer.unref?.();
        return;
      }
      this.#write(inBrokerOrder(this.#queue.splice(0, s.batchSize)));
    }
  }

  #write(batch: Held[]): void {
    this.#inFlight.add(batch);
    const onFailedAttempt = (error: unknown) => {
      this.#stats.retries++;
      this.#failed("insert", error);
    };
    // The turn is taken now, when the batch is cut: batches commit in this order however long preparing takes.
    const turn = new CommitTurn(this.#lastTurn);
    this.#lastTurn = turn;
    const items: PrepareItem[] = batch.map((h) => ({ encoded: h.delivery.encoded, receivedAt: h.arrivedAt, sequence: h.sequence }));
    void this.#context.preparer
      .prepare(this.topic, items)
      .then((prepared) => {
        if (prepared.inWorker) this.#stats.preparedInWorker++;
        const rows = {
          topic: this.topic,
          receivedAt: batch.map((h) => h.arrivedAt),
          text: prepared.text,
          rows: () => rowsOf(this.topic, items),
        };
        return this.#context.writer
          .write(rows, this.#giveUp.signal, onFailedAttempt, turn)
          .then((outcome) => (outcome ? this.#committed(batch, outcome, prepared) : this.#giveBack(batch)));
      })
      .catch((error: unknown) => this.#context.report(error, "recording a batch"))
      .finally(() => {
        this.#inFlight.delete(batch);
        this.#pump();
        if (this.#queue.length === 0 && this.#inFlight.size === 0) this.#wakeStop?.();
      });
  }

  /** After COMMIT: ack everything in the batch, count it, report new rows. */
  #committed(batch: Held[], { inserted, rejected }: WriteOutcome, prepared: Prepared): void {
    for (const h of batch) h.delivery.ack();
    this.#freed(batch);
    const s = this.#stats;
    const insertedCount = inserted === "all" ? batch.length : inserted.length;
    s.acked += batch.length;
    s.recorded += insertedCount;
    s.rejected += rejected.length;
    s.duplicates += batch.length - insertedCount - rejected.length;
    const escaped =
      inserted === "all" ? prepared.escaped : inserted.filter((r) => r.changes.length > 0).map((r) => ({ id: r.id, changes: r.changes }));
    s.escaped += escaped.length;
    s.lastCommitAt = new Date().toISOString();
    if (this.#failure?.what === "insert") this.#failure = null;
    for (const { row, error } of rejected) {
      this.#context.report(error, `message ${row.id} cannot be stored; it was acked without a history row`);
    }
    if (escaped.length > 0) {
      const first = escaped[0]!;
      this.#context.report(
        new Error(`${escaped.length} message(s) recorded with changes, e.g. ${first.id}: ${first.changes.join("; ")}`),
        "messages history cannot store verbatim (see their recorderror extension)",
      );
    }
    if (insertedCount > 0) {
      try {
        const summaries: MessageSummary[] = inserted === "all" ? JSON.parse(prepared.summaries) : inserted.map(summaryOf);
        this.#context.onCommitted(summaries);
      } catch (error) {
        this.#context.report(error, "onRecorded");
      }
    }
  }

  /** Gives a batch back (stopping): nack it so the broker redelivers it to another recorder or later. */
  #giveBack(batch: Held[]): void {
    const delayMs = this.#context.settings.giveBackDelayMs;
    for (const h of batch) h.delivery.nack(delayMs);
    this.#freed(batch);
    this.#stats.nacked += batch.length;
  }

  #freed(batch: Held[]): void {
    const s = this.#stats;
    s.held -= batch.length;
    for (const h of batch) s.heldBytes -= h.size;
    const wake = this.#wakeIntake;
    this.#wakeIntake = undefined;
    wake?.();
  }

  #failed(what: Failure["what"], error: unknown): void {
    const message = error instanceof Error ? error.message || error.name : String(error);
    this.#failure = { what, message };
    this.#stats.lastError = `${what}: ${message}`;
    this.#stats.lastErrorAt = new Date().toISOString();
    this.#context.report(error, what === "insert" ? "insert (will retry)" : "subscription (will reopen)");
  }

  /** Stops taking messages, writes what it holds (up to closeTimeoutMs), gives back the rest, closes. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#wakeIntake?.();
    this.#pump();
    if (this.#queue.length > 0 || this.#inFlight.size > 0) {
      await new Promise<void>((resolve) => {
        this.#wakeStop = resolve;
        setTimeout(resolve, this.#context.settings.closeTimeoutMs).unref?.();
      });
    }
    this.#giveUp.abort();
    if (this.#queue.length > 0) this.#giveBack(this.#queue.splice(0));
    // Aborted writes end promptly (an insert already running is bounded by the statement timeout).
    if (this.#inFlight.size > 0) await new Promise<void>((resolve) => (this.#wakeStop = resolve));
    await this.#subscription?.close().catch((error) => this.#context.report(error, "close subscription"));
    await this.#loop;
  }
}

/** `batch` sorted by broker sequence when every delivery has one and they are out of order; else as delivered. */
function inBrokerOrder(batch: Held[]): Held[] {
  let sorted = true;
  for (let i = 0; i < batch.length; i++) {
    const sequence = batch[i]!.sequence;
    if (sequence === null) return batch;
    if (i > 0 && sequence < batch[i - 1]!.sequence!) sorted = false;
  }
  return sorted ? batch : batch.sort((a, b) => (a.sequence! < b.sequence! ? -1 : a.sequence! > b.sequence! ? 1 : 0));
}
