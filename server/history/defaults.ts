/**
 * Every default of the history recorder and of retention, each with its reason. server/config.ts reads the
 * environment on top of the retention ones (WHISPER_RETENTION_*); the recorder's are options of `Recorder`.
 */
export const historyDefaults = {
  recorder: {
    /** The shared subscription name; replicas with the same name split the traffic. */
    subscriptionName: "whisper-recorder",
    /** Rows per insert: a COPY of 1000 rows costs a few tens of ms, long enough to amortise a transaction. */
    batchSize: 1000,
    /** A partial batch waits at most this long: history stays within a blink of the traffic when it is light. */
    maxLatencyMs: 50,
    /**
     * Deliveries held per topic, in batches (8 × 1000, under JetStream's 10,000 unacked per consumer): acks go
     * out only after COMMIT, so the broker must keep delivering while two batches are being written; measured
     * (bench/history.ts) 4 batches left the pipe empty between commits, 8 keep it full.
     */
    outstandingBatches: 8,
    /** Data bytes held per topic: the bound for large messages (the broker keeps the rest). */
    maxHeldBytes: 64 * 1024 * 1024,
    /** Batches of one topic cut at once: the next one's COPY text is built while the previous one commits. */
    maxInFlightBatches: 2,
    /** Inserts in flight at once across topics (each holds a pooled connection). */
    maxConcurrentWrites: 3,
    /** An insert statement longer than this is cancelled and retried (a lock, a hung server). */
    statementTimeoutMs: 30_000,
    /** COPY straight into messages: fastest when redeliveries are rare, which they are (writer.ts). */
    method: "copy" as "copy" | "staging" | "unnest",
    /** Backoff while the database or the subscription fails: quick first retry, at most 5 s apart. */
    retryInitialDelayMs: 100,
    retryMaxDelayMs: 5_000,
    /** close()/unwatch() wait this long for held batches to commit before giving them back. */
    closeTimeoutMs: 10_000,
    /** Redelivery delay of messages given back on close: not 0, or JetStream hands them back to the closing pull. */
    giveBackDelayMs: 1_000,
    /**
     * Decoding and COPY text in a worker thread (preparer.ts): the thread holding the broker connection then
     * only receives, writes and acks, and the two halves use both cores (bench/history.ts measures it).
     */
    threads: true,
    /**
     * The worker's young generation: deliveries live there from decoding to COPY text, and a young generation
     * larger than V8's default (16 MB semi-spaces) lets them die young instead of being copied and promoted.
     */
    workerYoungGenerationMb: 64,
    /**
     * Batches under this share of batchSize are prepared in the recorder's thread: they are cut by maxLatencyMs,
     * i.e. traffic is light, and the round trip to the worker would only add latency (measured: lag p95 at a
     * steady 5k events/s, whose batches are ~250 messages, rose under load when every batch went to the worker).
     */
    workerMinBatchShare: 0.5,
    /** After the worker failed, batches are prepared in the recorder's thread this long before a new worker starts. */
    workerRestartDelayMs: 10_000,
    /** topic_minutes rows are pruned this often, keeping 25 hours (the sparkline needs 30 minutes, the charts 24 h). */
    pruneMinutesEveryMs: 10 * 60_000,
  },
  retention: {
    /** Rows older than a week are deleted: a week of history answers "what happened", and bounds the disk. */
    maxAgeSeconds: 7 * 24 * 3600,
    /** At most a million rows per topic (about 0.5–1 GB with indexes at 200-byte events). */
    maxRows: 1_000_000,
    /** The audit log and resolved stall entries are kept a year (who did what outlives the traffic). */
    auditDays: 365,
    /** A retention pass runs this often; each pass deletes in batches until every limit holds. */
    intervalSeconds: 60,
    /** Rows per delete statement: each is its own short transaction (tens of ms), so ingest never waits long. */
    batchRows: 5_000,
  },
} as const;
