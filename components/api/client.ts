import { ApiError } from "./errors";
import type {
  AuditFilter,
  AuditPage,
  DemoStatus,
  MessageDetail,
  MessageFilter,
  MessagePage,
  PublishOutcome,
  RetentionChange,
  ResendResult,
  StalledList,
  StalledMessagePage,
  StructuredCloudEvent,
  SessionInfo,
  SubscriptionInfo,
  TopicSeries,
  TopicSummary,
} from "./types";

// The typed client of the admin API (docs/dashboard-contract.md). Every call is same-origin and
// carries the `whisper_session` cookie. A 401 anywhere but the login call sends the browser to
// /login?next=<where it was>, then rejects with an ApiError so callers still see a failure.

type RequestOptions = {
  method?: "GET" | "POST" | "PATCH" | "DELETE";
  /** JSON body; sent with Content-Type application/json unless `contentType` says otherwise. */
  json?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Do not redirect on 401 (the login form shows its own error). */
  noAuthRedirect?: boolean;
};

/** Where the browser goes when the session is missing or expired. */
export function loginUrl(next?: string): string {
  return next && next !== "/" && !next.startsWith("/login") ? `/login?next=${encodeURIComponent(next)}` : "/login";
}

function redirectToLogin(): void {
  if (typeof window === "undefined") return;
  if (window.location.pathname.startsWith("/login")) return;
  window.location.assign(loginUrl(window.location.pathname + window.location.search));
}

async function readProblem(res: Response): Promise<ApiError> {
  let problem = null;
  const type = res.headers.get("content-type") ?? "";
  if (type.includes("json")) {
    try {
      problem = await res.json();
    } catch {
      problem = null;
    }
  }
  return new ApiError(res.status, problem, `${res.status} ${res.statusText || "request failed"}`);
}

async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json, application/problem+json" };
  let body: string | undefined;
  if (options.json !== undefined) {
    headers["Content-Type"] = options.contentType ?? "application/json";
    body = JSON.stringify(options.json);
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method: options.method ?? "GET",
      headers,
      body,
      signal: options.signal,
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
    throw new ApiError(0, null, "The server could not be reached");
  }
  if (res.status === 401 && !options.noAuthRedirect) {
    redirectToLogin();
  }
  if (!res.ok) throw await readProblem(res);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

const seg = encodeURIComponent;

/** A view's filter without its start position (atTime/atSequence/atId apply to the first page only). */
function withoutStart(filter: MessageFilter): MessageFilter {
  const { atTime: _t, atSequence: _s, atId: _i, ...rest } = filter;
  return rest;
}

export const api = {
  login: (token: string) => request<void>("/api/login", { method: "POST", json: { token }, noAuthRedirect: true }),
  logout: () => request<void>("/api/logout", { method: "POST", noAuthRedirect: true }),
  session: (signal?: AbortSignal) => request<SessionInfo>("/api/session", { signal }),
  audit: (filter: AuditFilter, cursor: string | null, signal?: AbortSignal) =>
    request<AuditPage>(`/api/audit${query({ ...filter, cursor })}`, { signal }),

  listTopics: (signal?: AbortSignal) => request<{ topics: TopicSummary[] }>("/api/topics", { signal }),
  createTopic: (input: { name: string; ordering?: boolean }) =>
    request<TopicSummary>("/api/topics", { method: "POST", json: input }),
  deleteTopic: (topic: string) => request<void>(`/api/topics/${seg(topic)}`, { method: "DELETE" }),
  setRetention: (topic: string, retention: RetentionChange) =>
    request<TopicSummary>(`/api/topics/${seg(topic)}`, { method: "PATCH", json: { retention } }),
  topicSeries: (topic: string, range: { from: string; to?: string }, signal?: AbortSignal) =>
    request<TopicSeries>(`/api/topics/${seg(topic)}/series${query(range)}`, { signal }),
  demoStatus: (signal?: AbortSignal) => request<DemoStatus>("/api/demo", { signal }),
  setDemo: (running: boolean) => request<DemoStatus>("/api/demo", { method: "POST", json: { running } }),
  setFailing: (topic: string, failing: boolean) =>
    request<{ failing: boolean }>(`/api/topics/${seg(topic)}/failure`, { method: "POST", json: { failing } }),
  /** Publishes one CloudEvent in HTTP structured mode. */
  publish: (topic: string, event: StructuredCloudEvent) =>
    request<{ results: PublishOutcome[] }>(`/api/topics/${seg(topic)}/events`, {
      method: "POST",
      json: event,
      contentType: "application/cloudevents+json; charset=utf-8",
    }),

  /** A page of the view `filter`: the first (cursor null; `at*` apply), or the one after `cursor`. */
  browseMessages: (filter: MessageFilter, cursor: string | null, limit: number, signal?: AbortSignal) =>
    request<MessagePage>(`/api/messages${query(cursor === null ? { ...filter, limit } : { ...withoutStart(filter), cursor, limit })}`, { signal }),
  /** The rows of the view `filter` recorded after `after` (a page's newerCursor), newest first. */
  newerMessages: (filter: MessageFilter, after: string, limit: number, signal?: AbortSignal) =>
    request<MessagePage>(`/api/messages${query({ ...withoutStart(filter), to: undefined, after, limit })}`, { signal }),
  getMessage: (id: string, signal?: AbortSignal) => request<MessageDetail>(`/api/messages/${seg(id)}`, { signal }),
  replay: (id: string, input: { topic?: string; keepId?: boolean }) =>
    request<{ id: string; topic: string; replayOf: string }>(`/api/messages/${seg(id)}/replay`, {
      method: "POST",
      json: input,
    }),

  /** The board: per open stalled key its counts and first waiting messages (not every message). */
  listStalled: (topic?: string, signal?: AbortSignal) => request<StalledList>(`/api/ordering${query({ topic })}`, { signal }),
  /** One page of a stall entry's messages in original order ("show all"). */
  stalledMessages: (stallId: string, cursor: string | null, limit: number, signal?: AbortSignal) =>
    request<StalledMessagePage>(`/api/ordering/${seg(stallId)}/messages${query({ cursor, limit })}`, { signal }),
  resumeStall: (stallId: string) =>
    request<{ results: ResendResult[] }>(`/api/ordering/${seg(stallId)}/resume`, { method: "POST" }),
  discardStall: (stallId: string) =>
    request<{ discarded: number }>(`/api/ordering/${seg(stallId)}/discard`, { method: "POST" }),

  listSubscriptions: (topic?: string, signal?: AbortSignal) =>
    request<{ subscriptions: SubscriptionInfo[] }>(`/api/subscriptions${query({ topic })}`, { signal }),

  /** URL of the SSE stream (GET /api/live); events named `frame` carry a LiveFrame. */
  liveUrl: (params: { topic?: string; type?: string }) => `/api/live${query(params)}`,
};
