/**
 * Every default value of the whisper core, each with the reason it was chosen. Options objects take these
 * when a field is left out; nothing else in the core hard-codes a tuning number.
 */
export const defaults = {
  message: {
    /** CloudEvents requires a source; a URI-reference naming this library is honest when the caller gave none. */
    source: "/whisper",
    /** CloudEvents requires a type; reverse-DNS style, as the spec recommends, marks it as a generic event. */
    type: "whisper.event",
  },

  batching: {
    /** 1000 messages amortise per-batch driver work (one syscall, one round trip) without long waits. */
    maxMessages: 1000,
    /** 1 MiB matches the default max payload of NATS and keeps a batch inside one socket write burst. */
    maxBytes: 1024 * 1024,
    /** 0 = flush right after the current burst of synchronous publishes: batching without added latency. */
    maxLatencyMs: 0,
    /** Batches in flight at once per topic (unordered messages); enough to keep a network pipe full. */
    maxConcurrentBatches: 16,
  },

  flowControl: {
    /** Bounds memory held by unsent messages; 10k messages of a few KiB stay well under 100 MiB. */
    maxOutstandingMessages: 10_000,
    /** 64 MiB of unsent payload is the other bound, for large messages. */
    maxOutstandingBytes: 64 * 1024 * 1024,
    /** Blocking (waiting for room) loses nothing; "fail" is for callers that prefer shedding load. */
    limitExceeded: "block" as "block" | "fail",
  },

  publishRetry: {
    /** Attempts per batch including the first; covers a broker restart of a few seconds. */
    attempts: 5,
    /** First backoff delay; doubles each time. */
    initialDelayMs: 100,
    /** Backoff ceiling, so a long outage does not push retries minutes apart. */
    maxDelayMs: 2_000,
  },

  subscription: {
    /** Handlers running at once; enough to overlap I/O-bound handlers without flooding a database. */
    concurrency: 16,
    /** Messages pulled per driver receive call. */
    maxBatch: 256,
    /** Messages received but not yet settled (running + waiting behind an ordering key). */
    maxOutstanding: 1_000,
    /** A delivered message not settled by then is redelivered (drivers that redeliver). */
    ackDeadlineMs: 30_000,
    /** How long close() lets running handlers finish before it gives up on them (and nacks them). */
    drainTimeoutMs: 10_000,
  },

  middleware: {
    /** retry(): handler attempts in-process, including the first. */
    retryAttempts: 3,
    /** retry(): first backoff delay, doubling up to retryMaxDelayMs. */
    retryInitialDelayMs: 50,
    retryMaxDelayMs: 1_000,
    /** deadLetter(): deliveries before a failing message is moved to the dead-letter topic. */
    deadLetterAfter: 5,
    /** dedup(): how long an id is remembered; longer than any sane redelivery delay. */
    dedupWindowMs: 10 * 60_000,
    /** dedup(): how many ids are remembered at most, whatever the window (bounded memory). */
    dedupMaxIds: 100_000,
  },

  eventbus: {
    /** Messages one subscription may hold unacked+queued before publishes to it fail (no unbounded growth). */
    maxQueuedPerSubscription: 1_000_000,
  },
} as const;
