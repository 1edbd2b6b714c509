import { z } from "zod";

/**
 * The contract's outputs: the zod schema of every JSON shape the admin API answers. The one definition: the
 * services' and the UI's types are inferred from these (server/services/types.ts, components/api/types.ts),
 * /api/openapi.json renders them, and the API contract test parses live answers with them. Every field is
 * plain JSON: timestamps are ISO 8601 strings, 64-bit numbers are strings. Objects are strict: a field an
 * answer carries but the contract does not declare fails the contract test.
 */

const iso = z.string().describe("ISO 8601 timestamp");
const nullableText = z.string().nullable();

/** How far the history of one topic is behind its traffic (server/history/lag.ts). */
export const TopicRecording = z.strictObject({
  topic: z.string(),
  /** failing: inserts or the subscription fail right now; behind: a lag threshold is reached. */
  state: z.enum(["ok", "behind", "failing"]),
  /** Messages not yet in history: waiting at the broker plus held by the recorder. */
  behindMessages: z.number(),
  /** Estimated age of the oldest message not yet in history, in seconds. */
  behindSeconds: z.number(),
  /** Rows this server's recorder wrote since it started. */
  recorded: z.number(),
  /** Redeliveries to the recorder's subscription (the broker's count where it keeps one). */
  redelivered: z.number(),
  lastError: nullableText,
  lastErrorAt: nullableText,
  /** One sentence for a banner when not ok ("recording of demo.clicks is 1,505 messages / 4 min behind: …"). */
  reason: nullableText,
});

/** A topic's own retention setting, per limit: null = the server default (WHISPER_RETENTION_*), 0 = no limit. */
export const RetentionSetting = z.strictObject({
  maxAgeSeconds: z.number().nullable(),
  maxRows: z.number().nullable(),
});

/** What history keeps of a topic (server/history/retention.ts): the limits that apply, and the topic's setting. */
export const TopicRetention = z.strictObject({
  /** Messages received longer ago than this many seconds are deleted; null = no age limit. */
  maxAgeSeconds: z.number().nullable(),
  /** At most this many messages are kept, the oldest (by arrival) go first; null = no row limit. */
  maxRows: z.number().nullable(),
  setting: RetentionSetting,
});

export const TopicSummary = z.strictObject({
  name: z.string(),
  /** The topic's core URL, credentials redacted. */
  url: z.string(),
  ordering: z.boolean(),
  /** Messages recorded from this topic, ever. */
  messageCount: z.number(),
  /** Messages recorded in the last 60 seconds. */
  ratePerMinute: z.number(),
  lastMessageAt: iso.nullable(),
  /** Names of the subscriptions the dashboard holds on it (the recorder's is "whisper-recorder-<topic>"). */
  subscriptions: z.array(z.string()),
  /** Ordering keys with an open (stalled or failed) stall entry. */
  pausedKeys: z.number(),
  /** Sends fail on purpose (the in-process bus's failure toggle). */
  failing: z.boolean(),
  /** Messages per minute, last 30 minutes, oldest first (the current minute last). */
  sparkline: z.array(z.number()),
  /** How this server's recorder keeps up with the topic; null when it does not record it (yet). */
  recording: TopicRecording.nullable(),
  /** What history keeps of this topic. */
  retention: TopicRetention,
  /** Messages of this topic in history now (recorded minus deleted by retention). */
  keptMessages: z.number(),
  /** receivedAt of the oldest message of this topic still in history; null when none is. */
  oldestMessageAt: iso.nullable(),
});

export const MessageSummary = z.strictObject({
  id: z.string(),
  topic: z.string(),
  type: z.string(),
  source: z.string(),
  subject: nullableText,
  /** The CloudEvents `time` attribute as the event carried it. */
  time: z.string(),
  orderingKey: nullableText,
  /** Bytes of the data (UTF-8 for text); 0 without data. */
  size: z.number(),
  receivedAt: iso,
  replayOf: nullableText,
  /** The broker's sequence number as a decimal string, when the driver exposed one. */
  sequence: nullableText,
  /** The first 160 characters of JSON or text data, as stored; null for bytes or no data. */
  preview: nullableText,
});

/** A message of a live frame: its summary and, when small, its data (so the browser can apply data filters). */
export const LiveMessage = MessageSummary.extend({
  /** The whole JSON or text data when it is at most 2,048 bytes of UTF-8; absent otherwise (bytes, none, larger). */
  dataText: z.string().optional(),
});

export const MessageDetail = MessageSummary.extend({
  specversion: z.literal("1.0"),
  datacontenttype: nullableText,
  dataschema: nullableText,
  /** Every extension attribute, orderingkey and replayof included. */
  extensions: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  /** json: the JSON text as received (not re-serialised); text: the text; base64: the bytes; none: no data. */
  data: z.strictObject({ encoding: z.enum(["json", "text", "base64", "none"]), value: z.string() }),
});

export const MessagePage = z.strictObject({
  items: z.array(MessageSummary),
  /** The next page: pass it as `cursor` (or as `after` on a page asked with `after`); null on the last page. */
  nextCursor: nullableText,
  /** The rows recorded since this view was read: pass it as `after` (null when unknown, e.g. on later pages). */
  newerCursor: nullableText,
  /**
   * Set when the page holds fewer than `limit` rows only because it stopped after a bounded scan: received_at of
   * the oldest row it looked at (nextCursor continues below it). Null when the page is complete or the last one.
   */
  searchedTo: iso.nullable(),
});

/** Activity of one topic over a time range, in equal steps (GET /api/topics/{topic}/series). */
export const TopicSeries = z.strictObject({
  topic: z.string(),
  from: iso,
  to: iso,
  /** Seconds per point (a multiple of 60). */
  stepSeconds: z.number(),
  points: z.array(
    z.strictObject({
      /** Start of the step. */
      at: iso,
      /** Messages recorded into history. */
      recorded: z.number(),
      /** Publishes through this dashboard's core (events route, replays, demo, resumes) that succeeded. */
      published: z.number(),
      /** … that failed. */
      failed: z.number(),
      /** The recorder's lag: the largest sample in the step of messages not yet in history, and of their age. */
      behindMessages: z.number(),
      behindSeconds: z.number(),
    }),
  ),
});

export const DemoStatus = z.strictObject({
  running: z.boolean(),
  topics: z.array(z.string()),
  published: z.number(),
  failedOnPurpose: z.boolean(),
});

/** The outcome of one event of POST /api/topics/{topic}/events. */
export const PublishOutcome = z.strictObject({
  id: z.string(),
  /** pending: not confirmed within the publish deadline; its retries go on. */
  status: z.enum(["published", "failed", "pending"]),
  error: z.strictObject({ code: z.string(), message: z.string() }).optional(),
});

export const StalledMessageInfo = z.strictObject({
  seq: z.number(),
  id: z.string(),
  type: z.string(),
  status: z.enum(["stalled", "published", "failed", "discarded"]),
  error: nullableText,
});

/** What every view of a stall entry says of it. */
const StalledEntryFields = z.strictObject({
  id: z.string(),
  topic: z.string(),
  orderingKey: z.string(),
  /** The send error that paused the key. */
  error: z.string(),
  status: z.enum(["stalled", "resumed", "discarded", "failed"]),
  /** When the key stalled (the age of the stall). */
  createdAt: iso,
  updatedAt: iso,
});

export const StalledEntry = StalledEntryFields.extend({
  messages: z.array(StalledMessageInfo),
});

/**
 * One stalled ordering key as the board lists it (GET /api/ordering): the entry with counts and only its first
 * waiting messages, so the answer stays small however many messages wait behind the key; the rest are paged
 * by GET /api/ordering/{stallId}/messages.
 */
export const StalledKeySummary = StalledEntryFields.extend({
  /** Messages of the entry, in every status. */
  messageCount: z.number(),
  /** Messages still waiting (stalled, or failed on a resume): what Resume resends and Discard drops. */
  waitingCount: z.number(),
  /** The first waiting messages in their original order, at most 5. */
  messages: z.array(StalledMessageInfo),
});

export const ResendResult = z.strictObject({
  seq: z.number(),
  id: z.string(),
  status: z.enum(["published", "failed"]),
  error: z.string().optional(),
});

export const SubscriptionInfo = z.strictObject({
  topic: z.string(),
  name: z.string(),
  pending: z.number().nullable(),
  ackPending: z.number().nullable(),
  redelivered: z.number().nullable(),
});

export const AuditEntry = z.strictObject({
  id: z.string(),
  at: iso,
  /** "admin:bearer", "viewer:session:1a2b3c4d" (a session's short id), "system:demo". */
  actor: z.string(),
  /** Dotted verb: message.replay, stall.resume, stall.discard, topic.create, topic.delete, session.login, … */
  action: z.string(),
  /** What it was done to: a message id, a stall id, a topic name, a session. */
  target: z.string(),
  details: z.unknown(),
});

export const AuditPage = z.strictObject({ items: z.array(AuditEntry), nextCursor: nullableText });

export const SessionInfo = z.strictObject({
  role: z.enum(["admin", "viewer"]),
  via: z.enum(["bearer", "session"]),
  /** Absolute expiry of the session (null for bearer tokens). */
  expiresAt: iso.nullable(),
});

export const HealthStatus = z.enum(["ok", "degraded", "stopping", "starting", "error"]);

/** Health as anonymous callers see it; authenticated callers get the details too. */
export const Health = z.strictObject({
  status: HealthStatus,
  detail: z.string().optional(),
  problems: z.array(z.string()).optional(),
  bus: z.string().optional(),
  database: z.string().optional(),
  recording: z
    .array(z.strictObject({ topic: z.string(), state: z.enum(["ok", "behind", "failing"]), behindMessages: z.number(), behindSeconds: z.number() }))
    .optional(),
  /** How this replica shares state with the others (the control plane). */
  replicas: z.strictObject({ transport: z.string().nullable(), peers: z.number(), sendFailures: z.number() }).optional(),
  runtime: z.strictObject({ bootId: z.string(), startedBy: z.string(), startedAt: iso }).optional(),
});

/** One SSE `frame` event of GET /api/live. */
export const LiveFrame = z.strictObject({ messages: z.array(LiveMessage), dropped: z.number() });

export const ReplayResult = z.strictObject({ id: z.string(), topic: z.string(), replayOf: z.string() });

/** application/problem+json (RFC 9457). */
export const Problem = z.strictObject({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.string(),
  errors: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
});

/** A structured-mode CloudEvent (extensions are extra lower-case keys). */
export const CloudEvent = z.looseObject({
  specversion: z.literal("1.0"),
  id: z.string(),
  source: z.string(),
  type: z.string(),
  subject: z.string().optional(),
  time: z.string().optional(),
  datacontenttype: z.string().optional(),
  dataschema: z.string().optional(),
  data: z.unknown().optional(),
  data_base64: z.string().optional(),
});

export const TopicList = z.strictObject({ topics: z.array(TopicSummary) });
export const PublishResults = z.strictObject({ results: z.array(PublishOutcome) });
/** The board: open entries, newest first, at most 200 keys; `totalKeys` counts every open one. */
export const StalledList = z.strictObject({ stalled: z.array(StalledKeySummary), totalKeys: z.number() });
/** Every message of one entry in original order (every status), keyset-paginated by `seq`. */
export const StalledMessagePage = z.strictObject({ items: z.array(StalledMessageInfo), nextCursor: nullableText });
export const ResumeResults = z.strictObject({ results: z.array(ResendResult) });
export const DiscardResult = z.strictObject({ discarded: z.number() });
export const SubscriptionList = z.strictObject({ subscriptions: z.array(SubscriptionInfo) });
export const FailureState = z.strictObject({ failing: z.boolean() });
