import { z } from "zod";
import { topicNameSchema } from "../config";
import { storableIdSchema } from "../history/storable";
import { filterInput, sequenceText } from "./filter-schema";

/**
 * The contract's inputs: the zod schemas of every admin API path, query and body. Routes parse with these
 * (server/http/parse.ts); the operations table (operations.ts) and /api/openapi.json use the same objects, so
 * the documentation cannot drift from the validation.
 */

/** No NUL: PostgreSQL text cannot hold it, so no stored value has one and a filter with one is a mistake. */
const NO_NUL = /^[^\u0000]*$/;
const NO_NUL_MESSAGE = "must not contain NUL (U+0000)";
const id = z.string().min(1, "is required").max(256, "has at most 256 characters").regex(NO_NUL, NO_NUL_MESSAGE);
const text = (max: number) =>
  z.string().min(1, "must not be empty").max(max, `has at most ${max} characters`).regex(NO_NUL, NO_NUL_MESSAGE);
const optionalText = (max: number) => text(max).optional();
/** A count in a query string: decimal digits only (no "0x10", "1e3", " 5"), then bounded. */
const count = (max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,6}$/, "must be a whole number written in decimal digits")
    .transform(Number)
    .pipe(z.number().min(1, "must be at least 1").max(max, `must be at most ${max}`))
    .default(fallback);
/** A nextCursor this API issued: base64url text. */
const cursor = z
  .string()
  .max(1000, "has at most 1000 characters")
  .regex(/^[A-Za-z0-9_-]+$/, "is not a cursor returned by this API")
  .optional();
const timestamp = z.iso.datetime({ offset: true, error: "must be an ISO 8601 timestamp such as 2026-01-31T12:00:00Z" });

export const loginBody = z.strictObject({ token: z.string().min(1, "is required").max(1024) });

/** Longest retention by age a topic may set: 100 years, in seconds (fits the INTEGER column). */
const MAX_RETENTION_SECONDS = 100 * 365 * 24 * 3600;

/**
 * A topic's own retention setting (server/history/retention.ts), per limit: a number (0 = no limit), null = the
 * server default (WHISPER_RETENTION_*), absent = unchanged.
 */
export const retentionSettingInput = z.strictObject({
  maxAgeSeconds: z
    .number({ error: "must be a number of seconds, 0 (no age limit) or null (the server default)" })
    .int("must be a whole number of seconds")
    .min(0, "must be 0 or more")
    .max(MAX_RETENTION_SECONDS, `must be at most ${MAX_RETENTION_SECONDS} (100 years)`)
    .nullable()
    .optional(),
  maxRows: z
    .number({ error: "must be a number of messages, 0 (no row limit) or null (the server default)" })
    .int("must be a whole number")
    .min(0, "must be 0 or more")
    .max(2_000_000_000, "must be at most 2000000000")
    .nullable()
    .optional(),
});

export const createTopicBody = z.strictObject({
  name: topicNameSchema,
  ordering: z.boolean().optional(),
  retention: retentionSettingInput.optional(),
});

export const updateTopicBody = z.strictObject({ retention: retentionSettingInput });

export const topicParams = z.object({ topic: topicNameSchema });

export const failureBody = z.strictObject({ failing: z.boolean() });

export const demoBody = z.strictObject({ running: z.boolean() });

export const messagesQuery = z
  .strictObject({
    topic: topicNameSchema.optional(),
    /** The filter language: `type = order.* data.customer = "c-42" data.total > 100` (docs/history.md). */
    filter: filterInput.optional(),
    /** Exact, or a prefix when it ends in `*`; the same for source, subject and orderingKey. */
    type: optionalText(500),
    source: optionalText(2000),
    subject: optionalText(2000),
    orderingKey: optionalText(500),
    from: timestamp.optional(),
    to: timestamp.optional(),
    /** Text in the data, ignoring case (the filter language's bare values do the same). */
    q: optionalText(500),
    cursor,
    /** A page's newerCursor: the rows recorded after that view, newest first. */
    after: cursor,
    /** Start at the newest message received at or before this time. */
    atTime: timestamp.optional(),
    /** Start at the newest message whose broker sequence is at most this (needs topic). */
    atSequence: sequenceText.optional(),
    /** Start at this message. */
    atId: storableIdSchema.optional(),
    limit: count(200, 50),
  })
  .refine((q) => q.from === undefined || q.to === undefined || Date.parse(q.from) <= Date.parse(q.to), {
    message: "from must not be after to",
    path: ["from"],
  })
  .refine((q) => [q.cursor, q.after, q.atTime, q.atSequence, q.atId].filter((v) => v !== undefined).length <= 1, {
    message: "give at most one of cursor, after, atTime, atSequence and atId",
    path: ["cursor"],
  })
  .refine((q) => q.atSequence === undefined || q.topic !== undefined, { message: "atSequence needs a topic", path: ["atSequence"] });

/**
 * The longest range of GET /api/topics/{topic}/series (at most 180 points whatever the range; the per-minute
 * activity itself is kept 25 hours, older steps are zeros).
 */
export const SERIES_MAX_RANGE_MS = 31 * 24 * 3600 * 1000;

export const seriesQuery = z
  .strictObject({ from: timestamp, to: timestamp.optional() })
  .refine((q) => q.to === undefined || Date.parse(q.from) < Date.parse(q.to), { message: "from must be before to", path: ["from"] })
  .refine((q) => (q.to === undefined ? Date.now() : Date.parse(q.to)) - Date.parse(q.from) <= SERIES_MAX_RANGE_MS, {
    message: "the range is at most 31 days",
    path: ["from"],
  });

/** Every id the events route accepts: history's rule (server/history/storable.ts), 1,024 bytes of UTF-8 at most. */
export const messageParams = z.object({ id: storableIdSchema });

export const replayBody = z.strictObject({
  topic: topicNameSchema.optional(),
  keepId: z.boolean().optional(),
});

export const topicQuery = z.strictObject({ topic: topicNameSchema.optional() });

export const stallParams = z.object({ stallId: id });

/** Paging of one stall entry's messages: `cursor` is the nextCursor of the previous page. */
export const stallMessagesQuery = z.strictObject({
  cursor: z
    .string()
    .regex(/^[1-9]\d{0,9}$/, "is not a cursor returned by this API")
    .transform(Number)
    .pipe(z.number().max(2_147_483_647, "is not a cursor returned by this API"))
    .optional(),
  limit: count(500, 100),
});

export const liveQuery = z.strictObject({
  topic: topicNameSchema.optional(),
  type: optionalText(500),
  /** Summaries per frame for this client; the rest are counted as dropped. */
  limit: count(1000, 200),
});

/** No parameters (queries) or no fields (the body of a route that takes none: nothing or `{}`). */
export const emptyQuery = z.strictObject({});

export const auditQuery = z
  .strictObject({
    /** Prefix of the actor, e.g. "admin", "viewer:session:1a2b3c4d". */
    actor: optionalText(200),
    /** Prefix of the action, e.g. "stall." or "message.replay". */
    action: optionalText(100),
    /** Exact target: a message id, stall id, topic name or session. */
    target: optionalText(500),
    from: timestamp.optional(),
    to: timestamp.optional(),
    cursor: z.string().regex(/^[1-9]\d{0,18}$/, "is not a cursor returned by this API").optional(),
    limit: count(500, 100),
  })
  .refine((q) => q.from === undefined || q.to === undefined || Date.parse(q.from) <= Date.parse(q.to), {
    message: "from must not be after to",
    path: ["from"],
  });
