import type { Message, Subscription } from "@whisper/core";
import type { PublishOutcome } from "@/server/runtime/publish-deadline";
import type { Role } from "@/server/http/auth";

/**
 * What the gRPC service needs from whisper, implemented twice: over the dashboard's Runtime
 * (dashboard-backend.ts: history, the ordering board, replicas) and over the bare core
 * (standalone-backend.ts: `npm run sidecar`). The service validates input and maps errors; a backend
 * throws the app's service errors (NotFoundError, …) or the core's coded errors.
 */
export interface SidecarBackend {
  /** Tokens and limits, as the dashboard's config has them. */
  readonly settings: SidecarSettings;
  /** Publishes in order (ordering keys honoured) and reports each outcome within the publish deadline. NotFoundError for an unknown topic. */
  publish(topic: string, messages: readonly Message[]): Promise<PublishOutcome[]>;
  /**
   * Opens a core subscription to a managed topic (NotFoundError otherwise): `name` shares messages as in the
   * core, undefined is private. The caller closes it.
   */
  subscribe(topic: string, options: { name: string | undefined; maxInFlight: number }): Promise<Subscription>;
  /** Unpauses `key`, sending its stalled messages first where they are kept. NotFoundError if it is not paused. */
  resume(topic: string, key: string, actor: string): Promise<PublishOutcome[]>;
  pausedKeys(topic: string): Promise<PausedKeyInfo[]>;
  listTopics(): Promise<TopicInfo[]>;
  /** Subscription names a client may not take (they would steal the recorder's messages). */
  reservedSubscription(topic: string, name: string): boolean;
}

export interface SidecarSettings {
  adminToken: string;
  viewerToken: string | undefined;
  /** WHISPER_MAX_EVENT_BYTES: largest event (its structured JSON encoding). */
  maxEventBytes: number;
}

export interface PausedKeyInfo {
  orderingKey: string;
  error: string;
  stalledMessages: number;
}

export interface TopicInfo {
  name: string;
  ordering: boolean;
  pausedKeys: number;
}

export type { PublishOutcome, Role };
