// Shapes of the admin HTTP API, copied from docs/dashboard-contract.md ("Shapes").
// The UI talks to the server only through these; change them only together with the contract.

export type TopicSummary = {
  name: string;
  url: string;
  ordering: boolean;
  messageCount: number;
  ratePerMinute: number;
  lastMessageAt: string | null;
  subscriptions: string[];
  pausedKeys: number;
  failing: boolean;
  /** messages per minute, last 30 minutes, oldest first */
  sparkline: number[];
};

export type MessageSummary = {
  id: string;
  topic: string;
  type: string;
  source: string;
  subject: string | null;
  time: string;
  orderingKey: string | null;
  size: number;
  receivedAt: string;
  replayOf: string | null;
};

export type MessageData = { encoding: "json" | "text" | "base64" | "none"; value: string };

export type MessageDetail = MessageSummary & {
  specversion: "1.0";
  datacontenttype: string | null;
  dataschema: string | null;
  extensions: Record<string, string | number | boolean>;
  sequence: string | null;
  data: MessageData;
};

export type DemoStatus = { running: boolean; topics: string[]; published: number; failedOnPurpose: boolean };

export type PublishOutcome = { id: string; status: "published" | "failed"; error?: { code: string; message: string } };

export type StalledMessage = {
  seq: number;
  id: string;
  type: string;
  status: "stalled" | "published" | "failed" | "discarded";
  error: string | null;
};

export type StalledEntry = {
  id: string;
  topic: string;
  orderingKey: string;
  error: string;
  status: "stalled" | "resumed" | "discarded" | "failed";
  createdAt: string;
  updatedAt: string;
  messages: StalledMessage[];
};

export type ResendResult = { seq: number; id: string; status: "published" | "failed"; error?: string };

export type SubscriptionInfo = {
  topic: string;
  name: string;
  pending: number | null;
  ackPending: number | null;
  redelivered: number | null;
};

/** Query of GET /api/messages; every field optional, empty strings are not sent. */
export type MessageFilter = {
  topic?: string;
  type?: string;
  source?: string;
  subject?: string;
  orderingKey?: string;
  /** ISO 8601 */
  from?: string;
  /** ISO 8601 */
  to?: string;
  /** text in data */
  q?: string;
};

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
