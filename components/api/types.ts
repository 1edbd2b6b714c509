// Shapes of the admin HTTP API (docs/dashboard-contract.md, "Shapes"). The server's own types are the one
// definition; these are type-only imports (erased from the client bundle). The UI talks to the server only
// through the HTTP API, in these shapes.

import type { DemoStatus } from "@/server/demo";
import type { PublishOutcome } from "@/server/http/api";
import type { SessionInfo } from "@/server/http/session";
import type { SubscriptionInfo } from "@/server/runtime";
import type {
  AuditEntry,
  BrowseFilter,
  MessageDetail,
  MessageSummary,
  ResendResult,
  StalledEntry,
  StalledMessageInfo,
  TopicRecording,
  TopicSummary,
} from "@/server/services/types";

export type {
  AuditEntry,
  DemoStatus,
  MessageDetail,
  MessageSummary,
  PublishOutcome,
  ResendResult,
  SessionInfo,
  StalledEntry,
  SubscriptionInfo,
  TopicRecording,
  TopicSummary,
};

/** Filters of GET /api/audit (actor and action match as prefixes, target exactly); empty strings are not sent. */
export type AuditFilter = { actor?: string; action?: string; target?: string };

export type AuditPage = { items: AuditEntry[]; nextCursor: string | null };
export type StalledMessage = StalledMessageInfo;
export type MessageData = MessageDetail["data"];

/** Query of GET /api/messages (without the paging fields); every field optional, empty strings are not sent. */
export type MessageFilter = Omit<BrowseFilter, "cursor" | "limit">;

export type MessagePage = { items: MessageSummary[]; nextCursor: string | null };

/** One SSE `frame` event of GET /api/live. */
export type LiveFrame = { messages: MessageSummary[]; dropped: number };

/** A structured-mode CloudEvent as the UI publishes it (extensions are extra lower-case keys). */
export type StructuredCloudEvent = {
  specversion: "1.0";
  id: string;
  source: string;
  type: string;
  subject?: string;
  time?: string;
  datacontenttype?: string;
  dataschema?: string;
  data?: unknown;
  data_base64?: string;
  [extension: string]: unknown;
};

/** application/problem+json error body. */
export type Problem = {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: unknown;
};
