import type { z } from "zod";
import {
  auditQuery,
  createTopicBody,
  demoBody,
  emptyQuery,
  failureBody,
  liveQuery,
  loginBody,
  messageParams,
  messagesQuery,
  replayBody,
  seriesQuery,
  stallMessagesQuery,
  stallParams,
  topicParams,
  topicQuery,
  updateTopicBody,
} from "./inputs";
import * as shapes from "./shapes";

/**
 * Every operation of the admin API: method, path, who may call it, its inputs (the schemas the route parses
 * with) and its answers (the shapes it returns, by status). /api/openapi.json is rendered from this table and
 * tests check it against the route files on disk, so an operation is declared exactly once.
 */

export type Access = "public" | "viewer" | "admin";

export interface Answer {
  description: string;
  /** JSON schema of the body (application/json), or a media type for non-JSON answers; none: no body. */
  body?: z.ZodType | { mediaType: string; description: string };
}

export interface Operation {
  method: "get" | "post" | "patch" | "delete";
  path: string;
  summary: string;
  access: Access;
  params?: z.ZodType;
  query?: z.ZodType;
  /** A JSON body (application/json), or the events route's CloudEvent modes. */
  body?: z.ZodType | "cloudevents";
  /** Successful answers, and the errors particular to the operation (the common ones are added for all). */
  answers: Record<number, Answer>;
}

const ok = (description: string, body?: Answer["body"]): Record<number, Answer> => ({ 200: { description, body } });
const problem = (description: string): Answer => ({ description, body: shapes.Problem });

export const OPERATIONS: readonly Operation[] = [
  {
    method: "post",
    path: "/api/login",
    summary: "Exchange the admin or viewer token for a new session cookie (HttpOnly, SameSite=Strict)",
    access: "public",
    body: loginBody,
    answers: { 204: { description: "Logged in; Set-Cookie carries the session." }, 401: problem("Wrong token."), 429: problem("Too many failed logins from this address; see Retry-After.") },
  },
  { method: "post", path: "/api/logout", summary: "End the session everywhere and clear its cookie", access: "viewer", query: emptyQuery, answers: { 204: { description: "Logged out." } } },
  { method: "get", path: "/api/session", summary: "Who the caller is: role, how authenticated, the session's expiry", access: "viewer", query: emptyQuery, answers: ok("The caller.", shapes.SessionInfo) },
  {
    method: "get",
    path: "/api/audit",
    summary: "The audit log, newest first, keyset-paginated; actor/action match as prefixes, target exactly",
    access: "viewer",
    query: auditQuery,
    answers: ok("A page.", shapes.AuditPage),
  },
  { method: "get", path: "/api/topics", summary: "Topics with counts, rate, sparkline, subscriptions, paused keys and recording state", access: "viewer", query: emptyQuery, answers: ok("Topics.", shapes.TopicList) },
  {
    method: "post",
    path: "/api/topics",
    summary: "Create (and start managing) a topic",
    access: "admin",
    body: createTopicBody,
    answers: { 201: { description: "Created.", body: shapes.TopicSummary }, 409: problem("The topic exists.") },
  },
  {
    method: "patch",
    path: "/api/topics/{topic}",
    summary: "Change what a topic's history keeps: per limit seconds or messages, 0 = no limit, null = the server default",
    access: "admin",
    params: topicParams,
    body: updateTopicBody,
    answers: { ...ok("The topic after the change.", shapes.TopicSummary), 404: problem("Unknown topic.") },
  },
  {
    method: "delete",
    path: "/api/topics/{topic}",
    summary: "Stop managing a topic and delete it (its history stays)",
    access: "admin",
    params: topicParams,
    answers: { 204: { description: "Deleted." }, 404: problem("Unknown topic.") },
  },
  {
    method: "post",
    path: "/api/topics/{topic}/events",
    summary: "Publish CloudEvents (HTTP binary, structured or batch mode) through the embedded core",
    access: "admin",
    params: topicParams,
    body: "cloudevents",
    answers: {
      202: { description: "Outcome per event, in order, within the publish deadline.", body: shapes.PublishResults },
      404: problem("Unknown topic."),
      413: problem("Body, batch or event too large (WHISPER_MAX_EVENT_BYTES, or the broker's own limit)."),
      415: problem("Not a CloudEvent."),
    },
  },
  {
    method: "post",
    path: "/api/topics/{topic}/failure",
    summary: "Make sends to the topic fail on purpose (in-process bus only)",
    access: "admin",
    params: topicParams,
    body: failureBody,
    answers: { ...ok("The new state.", shapes.FailureState), 404: problem("Unknown topic."), 409: problem("Not the in-process bus.") },
  },
  {
    method: "get",
    path: "/api/topics/{topic}/series",
    summary: "A topic's activity over a range: recorded, published and failed per step, and the recorder's lag",
    access: "viewer",
    params: topicParams,
    query: seriesQuery,
    answers: { ...ok("The series.", shapes.TopicSeries), 404: problem("Unknown topic.") },
  },
  {
    method: "get",
    path: "/api/messages",
    summary: "Browse or search recorded messages (one topic or all), newest first, with the filter language and keyset pagination",
    access: "viewer",
    query: messagesQuery,
    answers: { ...ok("A page.", shapes.MessagePage), 404: problem("atId names no recorded message.") },
  },
  {
    method: "get",
    path: "/api/messages/{id}",
    summary: "One recorded message with every attribute, extension and its data",
    access: "viewer",
    params: messageParams,
    answers: { ...ok("The message.", shapes.MessageDetail), 404: problem("Unknown message.") },
  },
  {
    method: "post",
    path: "/api/messages/{id}/replay",
    summary: "Publish a recorded message again (new id and replayof = original id, unless keepId)",
    access: "admin",
    params: messageParams,
    body: replayBody,
    answers: { 201: { description: "Published.", body: shapes.ReplayResult }, 404: problem("Unknown message or topic.") },
  },
  {
    method: "get",
    path: "/api/ordering",
    summary: "Stalled ordering keys: per key the error, counts and the first waiting messages (bounded, whatever waits behind)",
    access: "viewer",
    query: topicQuery,
    answers: ok("Stalled keys.", shapes.StalledList),
  },
  {
    method: "get",
    path: "/api/ordering/{stallId}/messages",
    summary: "Every message of a stall entry in original order, with its status, keyset-paginated",
    access: "viewer",
    params: stallParams,
    query: stallMessagesQuery,
    answers: { ...ok("A page.", shapes.StalledMessagePage), 404: problem("Unknown stall.") },
  },
  {
    method: "post",
    path: "/api/ordering/{stallId}/resume",
    summary: "Resend the stalled messages first on their key, in order, then unpause the key everywhere",
    access: "admin",
    params: stallParams,
    answers: { ...ok("Per-message results.", shapes.ResumeResults), 404: problem("Unknown stall."), 409: problem("Already resumed or discarded.") },
  },
  {
    method: "post",
    path: "/api/ordering/{stallId}/discard",
    summary: "Drop the stalled messages (audited) and unpause the key",
    access: "admin",
    params: stallParams,
    answers: { ...ok("Discarded.", shapes.DiscardResult), 404: problem("Unknown stall."), 409: problem("Already resumed or discarded.") },
  },
  {
    method: "get",
    path: "/api/subscriptions",
    summary: "Subscriptions with what the broker can tell (pending, ack-pending, redelivered; null when unknown)",
    access: "viewer",
    query: topicQuery,
    answers: ok("Subscriptions.", shapes.SubscriptionList),
  },
  {
    method: "get",
    path: "/api/live",
    summary: "Live traffic as Server-Sent Events",
    access: "viewer",
    query: liveQuery,
    answers: ok("The stream.", {
      mediaType: "text/event-stream",
      description:
        "Event `frame`: a LiveFrame `{ messages, dropped }` about every 100 ms while there is traffic; with `topic`, event " +
        "`status`: its TopicRecording (or null) at once and every 2 s; comment `: ping` every 15 s.",
    }),
  },
  { method: "get", path: "/api/demo", summary: "State of the demo traffic source", access: "viewer", query: emptyQuery, answers: ok("The demo's state.", shapes.DemoStatus) },
  {
    method: "post",
    path: "/api/demo",
    summary: "Start or stop the demo traffic (starting creates the demo topics)",
    access: "admin",
    body: demoBody,
    answers: ok("The demo's new state.", shapes.DemoStatus),
  },
  {
    method: "get",
    path: "/api/health",
    summary: "Health: without credentials only `{ status }`; with them every detail",
    access: "public",
    query: emptyQuery,
    answers: { ...ok("Up (ok or degraded).", shapes.Health), 503: { description: "Starting, stopping, or the database is unreachable.", body: shapes.Health } },
  },
  { method: "get", path: "/api/openapi.json", summary: "This document", access: "viewer", query: emptyQuery, answers: ok("OpenAPI 3.1.", { mediaType: "application/json", description: "OpenAPI 3.1 document" }) },
  {
    method: "get",
    path: "/api/metrics",
    summary: "Prometheus metrics of this process",
    access: "viewer",
    query: emptyQuery,
    answers: ok("Metrics.", { mediaType: "text/plain", description: "Text exposition format 0.0.4." }),
  },
];

/** The operation of `method` on `path` (OpenAPI style, e.g. /api/topics/{topic}), or undefined. */
export function operation(method: string, path: string): Operation | undefined {
  return OPERATIONS.find((o) => o.method === method.toLowerCase() && o.path === path);
}
