import type { Shape } from "@/server/contract";

/**
 * The JSON shapes the data layer hands to the web server: inferred from the API contract's zod schemas
 * (server/contract/shapes.ts), the one definition; only the data layer's own input and row types are here.
 */

export type TopicSummary = Shape<"TopicSummary">;
export type TopicRecording = Shape<"TopicRecording">;
export type MessageSummary = Shape<"MessageSummary">;
export type MessageDetail = Shape<"MessageDetail">;
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
  /** 1..200, default 50. */
  limit?: number;
};
