import type { Shape } from "@/server/contract";
import type { Filter } from "@/server/contract/filter";

/**
 * The JSON shapes the data layer hands to the web server: inferred from the API contract's zod schemas
 * (server/contract/shapes.ts), the one definition; only the data layer's own input and row types are here.
 */

export type TopicSummary = Shape<"TopicSummary">;
export type TopicRecording = Shape<"TopicRecording">;
export type MessageSummary = Shape<"MessageSummary">;
export type MessageDetail = Shape<"MessageDetail">;
export type MessagePage = Shape<"MessagePage">;
export type LiveMessage = Shape<"LiveMessage">;
export type TopicSeries = Shape<"TopicSeries">;
export type StalledMessageInfo = Shape<"StalledMessageInfo">;
export type StalledEntry = Shape<"StalledEntry">;
export type StalledKeySummary = Shape<"StalledKeySummary">;
export type ResendResult = Shape<"ResendResult">;
export type AuditEntry = Shape<"AuditEntry">;
export type TopicRetention = Shape<"TopicRetention">;
export type RetentionSetting = Shape<"RetentionSetting">;

export type TopicRow = {
  name: string;
  url: string;
  ordering: boolean;
  retention: RetentionSetting;
  createdAt: string;
  updatedAt: string;
};

export type BrowseFilter = {
  topic?: string;
  /** The filter language (server/contract/filter.ts), e.g. `type = order.* data.total > 100`, or its parsed form. */
  filter?: string | Filter;
  /** Exact, or a prefix when it ends in `*` (as in the filter language); the same for source, subject, orderingKey. */
  type?: string;
  source?: string;
  subject?: string;
  orderingKey?: string;
  /** Received at or after (ISO 8601). */
  from?: string;
  /** Received strictly before (ISO 8601). */
  to?: string;
  /** Case-insensitive substring of the data (JSON or text data only). */
  q?: string;
  /** nextCursor of the previous page. */
  cursor?: string;
  /** Rows recorded after this cursor (a page's newerCursor), newest first; continue with nextCursor as `after`. */
  after?: string;
  /** Start the list at the newest row received at or before this time (ISO 8601). */
  atTime?: string;
  /** Start the list at the newest row whose broker sequence is at most this (decimal; needs topic). */
  atSequence?: string;
  /** Start the list at this message (inclusive). */
  atId?: string;
  /** 1..200, default 50. */
  limit?: number;
};
