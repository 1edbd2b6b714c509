/**
 * Every default of the admin API's security and input limits, each with the reason for its value. The
 * environment may override some (server/config.ts names which); nothing else in server/http hard-codes one.
 */
export const httpDefaults = {
  body: {
    /** Routes that take no body still accept an empty JSON object (`{}`), which clients often send. */
    emptyBytes: 64,
    /** POST /api/login: `{"token":"…"}` with a token of at most 1024 characters fits with room to spare. */
    loginBytes: 4 * 1024,
    /** Admin JSON bodies (create topic, replay, demo, failure) are a few small fields. */
    jsonBytes: 64 * 1024,
    /** POST /api/topics/{topic}/events: one event or a batch; larger transfers belong on the bus itself. */
    eventsBytes: 4 * 1024 * 1024,
  },
  /** Most events one batch request may carry (each is published and reported on its own). */
  maxBatchEvents: 1000,
  /**
   * Largest single event (its structured JSON encoding) the events route publishes: NATS's default
   * max_payload, so an event the default broker would refuse is a 413 before anything is sent.
   * WHISPER_MAX_EVENT_BYTES overrides it.
   */
  maxEventBytes: 1024 * 1024,
  /** Deepest nesting of arrays/objects in a JSON body: real events stay far below; deeper is an attack. */
  maxJsonDepth: 64,
  session: {
    /** A session unused this long ends (WHISPER_SESSION_IDLE_MINUTES): an operator's working day. */
    idleMs: 8 * 60 * 60 * 1000,
    /** A session ends this long after login whatever its use (WHISPER_SESSION_MAX_HOURS). */
    absoluteMs: 24 * 60 * 60 * 1000,
    /** lastSeenAt is written at most this often per session, so polling pages do not write on every request. */
    touchEveryMs: 60 * 1000,
  },
  login: {
    /** Failed logins one client address may make per window before it gets 429 (guessing stays slow). */
    maxFailures: 10,
    /** The window of those failures; Retry-After says when the oldest one leaves it. */
    windowMs: 15 * 60 * 1000,
    /** Addresses tracked at most; the oldest entries are forgotten first, so memory stays bounded. */
    maxTrackedAddresses: 10_000,
  },
} as const;
