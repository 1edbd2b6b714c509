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
    /**
     * Redelivery delay of what a stopping subscription hands back: long enough that a broker redelivering
     * at once (JetStream) does not hand it straight back to the subscription that is closing.
     */
    stopNackDelayMs: 1_000,
    /**
     * Backoff between receive calls after an error the driver calls retryable; retried until stopped (as
     * go-cloud's Receive does), so a broker restart never ends a long-running receive(). Capped at 2 s so
     * receiving resumes within seconds once the broker is back.
     */
    receiveRetry: { initialDelayMs: 100, maxDelayMs: 2_000 },
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

  nats: {
    /** Port of a NATS URL that names none: the NATS default. */
    port: 4222,
    /** Wait between reconnect attempts; short, so a restarted broker is back in use within a second. */
    reconnectTimeWaitMs: 500,
    /** Time allowed for the first connection (TCP + handshake) before opening fails. */
    connectTimeoutMs: 5_000,
    /** Messages held per connection while disconnected before further publishes fail (bounded memory). */
    disconnectBufferMessages: 50_000,
    /** Bytes held per connection while disconnected; with the count above, the buffer's other bound. */
    disconnectBufferBytes: 32 * 1024 * 1024,
    /** How long a publish waits for a reconnect before failing; covers a broker restart of a few seconds. */
    disconnectBufferTimeoutMs: 10_000,
    /** Received core-NATS messages held unread per subscription before newer ones are dropped (at-most-once). */
    maxPendingMessages: 1_000_000,
    /** Received core-NATS bytes held unread per subscription; the server's own slow-consumer limit is 64 MiB. */
    maxPendingBytes: 64 * 1024 * 1024,
    /** pubAck on core NATS is a flush round trip; a round trip slower than this fails (retryable). */
    confirmTimeoutMs: 5_000,
    /** How long closing a connection waits for its last flush before closing anyway. */
    closeFlushTimeoutMs: 2_000,
  },

  jetstream: {
    /** Wait for one JetStream publish ack before the publish fails (retryable). */
    publishTimeoutMs: 5_000,
    /** Messages asked for per pull request; enough to keep the pipe full, small against the ack deadline. */
    pullMaxMessages: 500,
    /** Deliveries buffered per subscription before pulling pauses (on top of one pull in flight). */
    bufferedMessages: 1_000,
    /** Unacked deliveries the server allows per consumer; above the subscription's default maxOutstanding. */
    maxAckPending: 10_000,
    /** A private (unnamed) subscription's consumer is deleted by the server this long after its client vanished. */
    privateInactiveMs: 5 * 60_000,
    /**
     * A process's lock on a whisper-managed stream's subject list expires this long after it was taken, so a
     * process that died holding it blocks others no longer; the locked work takes a few round trips.
     */
    streamLockTtlMs: 10_000,
    /** How long opening a topic waits for the subject lock before failing: past one TTL, so a dead holder's lock has expired. */
    streamLockWaitMs: 15_000,
    /** Read-update-verify rounds to add a subject to a stream before opening fails (each re-reads the stream). */
    streamUpdateAttempts: 10,
    /** Mean wait between lock or update attempts, jittered ±50% so processes retrying together fall apart. */
    streamRetryDelayMs: 20,
  },

  http: {
    /** Binary content mode: data travels untouched as the body, attributes as ce- headers (the binding's default). */
    mode: "binary" as "binary" | "structured" | "batch",
    /** Per request; longer than a receiver's default ack deadline (30 s), after which a whisper receiver answers 503. */
    timeoutMs: 60_000,
    /** Requests in flight per topic: hides round trips and handler time without opening hundreds of sockets. */
    maxInFlight: 64,
    /** Request bodies a subscription accepts: 4× the default batch (1 MiB), room for base64 and JSON escapes. */
    maxBodyBytes: 4 * 1024 * 1024,
    /**
     * An answer sent before its body arrived in full (a 413) is followed by a lingering close: the rest of the
     * body is read and dropped for up to this long or this many bytes, then the connection closes. A connection
     * closed with unread data is reset by TCP, and a client still sending would lose the answer
     * (drivers/http/linger.ts). Bounded, so a sender cannot keep the server reading.
     */
    unreadLingerMs: 5_000,
    unreadLingerBytes: 32 * 1024 * 1024,
    /** Deliveries one subscription holds unsettled before new requests are answered 503 (the sender retries). */
    maxQueued: 10_000,
    /** Answer after the handler settled: ack → 2xx, nack → 5xx, so a nack makes the sender retry. */
    respond: "settled" as "settled" | "received",
    /** Nacked ids remembered per subscription to number redelivery attempts; bounded memory. */
    maxRememberedAttempts: 10_000,
    /** Characters of an error answer's body kept on HttpStatusError; enough for a problem+json document. */
    maxErrorBodyChars: 4_096,
    /** After the last path of a server closes, connections still busy get this long before they are cut. */
    closeGraceMs: 1_000,
  },

  redis: {
    /** Port of a redis:// URL that names none: the Redis default. */
    port: 6379,
    /** Time allowed for the first connection (TCP + handshake) before opening fails. */
    connectTimeoutMs: 5_000,
    /** Wait between reconnect attempts; short, so a restarted server is back in use within a second. */
    reconnectDelayMs: 500,
    /** How long a publish issued while disconnected waits for the reconnect before failing (retryable). */
    bufferTimeoutMs: 10_000,
    /** How long one blocking XREADGROUP waits on the server; claims and close() never wait for it. */
    blockMs: 2_000,
    /** Longest gap between two XAUTOCLAIM passes; shorter when the ack deadline is (half of it). */
    claimIntervalMs: 1_000,
    /**
     * A private subscription's group outlives its process by this long (a lease renewed while open), then the
     * next subscription opened on the stream removes it; as JetStream's and RabbitMQ's private consumers.
     */
    privateLeaseMs: 5 * 60_000,
  },

  amqp: {
    /** Port of an amqp:// URL that names none: the AMQP 0-9-1 default. */
    port: 5672,
    /** Time allowed for the first connection (TCP + handshake) before opening fails. */
    connectTimeoutMs: 5_000,
    /** Wait between reconnect attempts; short, so a restarted broker is back in use within a second. */
    reconnectDelayMs: 500,
    /** How long a publish issued while disconnected waits for the reconnect before failing (retryable). */
    bufferTimeoutMs: 10_000,
    /** Deliveries the broker sends a subscription ahead of its acks (basic.qos): the flow-control window. */
    prefetch: 500,
    /** Exchange type of an exchange this driver declares: fanout, since every bound queue gets every message. */
    exchangeType: "fanout",
    /** A private subscription's queue is deleted by the broker this long after its process vanished. */
    privateQueueExpiryMs: 5 * 60_000,
  },

  mqtt: {
    /** Port of an mqtt:// URL that names none: the MQTT default. */
    port: 1883,
    /** Time allowed for the first connection (TCP + CONNECT/CONNACK) before opening fails. */
    connectTimeoutMs: 5_000,
    /** Wait between reconnect attempts; short, so a restarted broker is back in use within a second. */
    reconnectDelayMs: 500,
    /** How long a publish issued while disconnected waits for the reconnect before failing (retryable). */
    bufferTimeoutMs: 10_000,
    /** The broker keeps a subscription's session (its QoS 1 messages) this long after a disconnect. */
    sessionExpirySeconds: 300,
    /** A publish waits this long for its PUBACK (the client resends it after a reconnect) before failing. */
    publishTimeoutMs: 15_000,
    /** Messages a subscription holds untaken before it stops reading (and acknowledging): the backpressure bound. */
    maxBuffered: 1_000,
  },

  eventbus: {
    /** Messages one subscription may hold unacked+queued before publishes to it fail (no unbounded growth). */
    maxQueuedPerSubscription: 1_000_000,
  },
} as const;
