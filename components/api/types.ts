// Shapes of the admin HTTP API, inferred from the contract's zod schemas (server/contract), the one
// definition the server validates and answers with and /api/openapi.json renders. Type-only imports, erased
// from the client bundle: the UI talks to the server only through the HTTP API, in these shapes.

import type { z } from "zod";
import type { auditQuery, messagesQuery, retentionSettingInput, Shape, shapes } from "@/server/contract";

export type TopicSummary = Shape<"TopicSummary">;
export type TopicRecording = Shape<"TopicRecording">;
export type MessageSummary = Shape<"MessageSummary">;
export type MessageDetail = Shape<"MessageDetail">;
export type MessagePage = Shape<"MessagePage">;
export type DemoStatus = Shape<"DemoStatus">;
export type PublishOutcome = Shape<"PublishOutcome">;
export type StalledKeySummary = Shape<"StalledKeySummary">;
export type StalledList = Shape<"StalledList">;
export type StalledMessagePage = Shape<"StalledMessagePage">;
export type StalledMessage = Shape<"StalledMessageInfo">;
export type ResendResult = Shape<"ResendResult">;
export type SubscriptionInfo = Shape<"SubscriptionInfo">;
export type AuditEntry = Shape<"AuditEntry">;
export type AuditPage = Shape<"AuditPage">;
export type SessionInfo = Shape<"SessionInfo">;
export type ReplayResult = Shape<"ReplayResult">;
/** One SSE `frame` event of GET /api/live. */
export type LiveFrame = Shape<"LiveFrame">;
/** A message of a live frame: its summary, and its data when small (for data filters in the browser). */
export type LiveMessage = Shape<"LiveMessage">;
export type TopicSeries = Shape<"TopicSeries">;
export type TopicRetention = Shape<"TopicRetention">;
/** Body of PATCH /api/topics/{topic}: per limit a number (0 = none), null = the server default, absent = unchanged. */
export type RetentionChange = z.input<typeof retentionSettingInput>;
/** A structured-mode CloudEvent as the UI publishes it (extensions are extra lower-case keys). */
export type StructuredCloudEvent = z.input<typeof shapes.CloudEvent>;
export type MessageData = MessageDetail["data"];

/**
 * Query of GET /api/messages without the paging fields (cursor, after, limit): the view of a history list. Every
 * field optional; empty strings are not sent. `filter` is the filter language's text.
 */
export type MessageFilter = Omit<z.input<typeof messagesQuery>, "cursor" | "after" | "limit">;

/** Filters of GET /api/audit (actor and action match as prefixes, target exactly); empty strings are not sent. */
export type AuditFilter = Pick<z.input<typeof auditQuery>, "actor" | "action" | "target">;

/** application/problem+json error body, as far as the UI relies on it (any field may be missing on a proxy's error). */
export type Problem = Partial<Shape<"Problem">> & { errors?: unknown };
