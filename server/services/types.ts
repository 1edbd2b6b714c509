/**
 * The JSON shapes the data layer hands to the web server (docs/dashboard-contract.md, "Shapes"). Every field
 * is plain JSON: timestamps are ISO 8601 strings, 64-bit numbers are strings.
 */

export type TopicSummary = {
  name: string;
  url: string;
  ordering: boolean;
  /** Messages recorded from this topic, ever. */
  messageCount: number;
  /** Messages recorded in the last 60 seconds. */
  ratePerMinute: number;
  lastMessageAt: string | null;
  /** Names of the subscriptions the dashboard holds on it (the recorder's is "whisper-recorder-<topic>"). */
  subscriptions: string[];
  /** Ordering keys with an open (stalled or failed) stall entry. */
  pausedKeys: number;
  /** Always false from the data layer: the runtime knows whether it made the topic fail on purpose. */
  failing: boolean;
  /** Messages per minute, last 30 minutes, oldest first (the current minute last). */
  sparkline: number[];
  /** How this server's recorder keeps up with the topic; null when it does not record it (yet). */
  recording: TopicRecording | null;
};

/** How far the history of one topic is behind its traffic (server/history/lag.ts). */
export type TopicRecording = {
  topic: string;
  /** failing: inserts or the subscription fail right now; behind: a lag threshold is reached. */
  state: "ok" | "behind" | "failing";
  /** Messages not yet in history: waiting at the broker plus held by the recorder. */
  behindMessages: number;
  /** Estimated age of the oldest message not yet in history, in seconds. */
  behindSeconds: number;
  /** Rows this server's recorder wrote since it started. */
  recorded: number;
  /** Redeliveries to the recorder's subscription (the broker's count where it keeps one). */
  redelivered: number;
  lastError: string | null;
  lastErrorAt: string | null;
  /** One sentence for a banner when not ok ("recording of demo.clicks is 1,505 messages / 4 min behind: …"). */
  reason: string | null;
};

export type TopicRow = { name: string; url: string; ordering: boolean; createdAt: string; updatedAt: string };

export type MessageSummary = {
  id: string;
  topic: string;
  type: string;
  source: string;
  subject: string | null;
  /** The CloudEvents `time` attribute as the event carried it. */
  time: string;
  orderingKey: string | null;
  /** Bytes of the data (UTF-8 for text); 0 without data. */
  size: number;
  receivedAt: string;
  replayOf: string | null;
};

export type MessageDetail = MessageSummary & {
  specversion: "1.0";
  datacontenttype: string | null;
  dataschema: string | null;
  /** Every extension attribute, orderingkey and replayof included. */
  extensions: Record<string, string | number | boolean>;
  /** The broker's sequence number as a decimal string, when the driver exposed one. */
  sequence: string | null;
  /** json: the JSON text as received (not re-serialised); text: the text; base64: the bytes; none: no data. */
  data: { encoding: "json" | "text" | "base64" | "none"; value: string };
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

export type StalledMessageInfo = {
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
  messages: StalledMessageInfo[];
};

export type ResendResult = { seq: number; id: string; status: "published" | "failed"; error?: string };

export type AuditEntry = {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  details: unknown;
};
