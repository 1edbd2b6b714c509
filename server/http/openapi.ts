import { z } from "zod";
import {
  auditQuery,
  createTopicBody,
  demoBody,
  failureBody,
  liveQuery,
  loginBody,
  messageParams,
  messagesQuery,
  replayBody,
  stallParams,
  topicParams,
  topicQuery,
} from "./schemas";

/**
 * The OpenAPI 3.1 document of the admin API. Request schemas are generated from the zod schemas the routes
 * validate with; response schemas restate the contract's shapes (docs/dashboard-contract.md). Every route
 * file under app/api has its methods here (a test checks that).
 */

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const str = { type: "string" };
const nullableStr = { type: ["string", "null"] };
const int = { type: "integer" };
const nullableInt = { type: ["integer", "null"] };

const shapes: Record<string, Json> = {
  Problem: {
    type: "object",
    required: ["type", "title", "status", "detail"],
    properties: {
      type: str,
      title: str,
      status: int,
      detail: str,
      errors: { type: "array", items: { type: "object", properties: { path: str, message: str } } },
    },
  },
  TopicSummary: {
    type: "object",
    properties: {
      name: str,
      url: str,
      ordering: { type: "boolean" },
      messageCount: int,
      ratePerMinute: { type: "number" },
      lastMessageAt: nullableStr,
      subscriptions: { type: "array", items: str },
      pausedKeys: int,
      failing: { type: "boolean" },
      sparkline: { type: "array", items: { type: "number" }, description: "messages per minute, last 30 minutes, oldest first" },
      recording: {
        type: ["object", "null"],
        description: "how this server's recorder keeps up with the topic (null when it does not record it)",
        properties: {
          topic: str,
          state: { type: "string", enum: ["ok", "behind", "failing"] },
          behindMessages: int,
          behindSeconds: { type: "number" },
          recorded: int,
          redelivered: int,
          lastError: nullableStr,
          lastErrorAt: nullableStr,
          reason: { ...nullableStr, description: "one sentence for a banner when not ok" },
        },
      },
    },
  },
  MessageSummary: {
    type: "object",
    properties: {
      id: str,
      topic: str,
      type: str,
      source: str,
      subject: nullableStr,
      time: str,
      orderingKey: nullableStr,
      size: int,
      receivedAt: str,
      replayOf: nullableStr,
    },
  },
  MessageDetail: {
    allOf: [
      ref("MessageSummary"),
      {
        type: "object",
        properties: {
          specversion: { const: "1.0" },
          datacontenttype: nullableStr,
          dataschema: nullableStr,
          extensions: { type: "object", additionalProperties: { type: ["string", "number", "boolean"] } },
          sequence: nullableStr,
          data: {
            type: "object",
            properties: { encoding: { enum: ["json", "text", "base64", "none"] }, value: str },
          },
        },
      },
    ],
  },
  DemoStatus: {
    type: "object",
    required: ["running", "topics", "published", "failedOnPurpose"],
    properties: {
      running: { type: "boolean" },
      topics: { type: "array", items: str },
      published: { type: "integer" },
      failedOnPurpose: { type: "boolean" },
    },
  },
  PublishOutcome: {
    type: "object",
    required: ["id", "status"],
    properties: {
      id: str,
      status: { enum: ["published", "failed", "pending"] },
      error: { type: "object", properties: { code: str, message: str } },
    },
  },
  StalledEntry: {
    type: "object",
    properties: {
      id: str,
      topic: str,
      orderingKey: str,
      error: str,
      status: { enum: ["stalled", "resumed", "discarded", "failed"] },
      createdAt: str,
      updatedAt: str,
      messages: {
        type: "array",
        items: {
          type: "object",
          properties: {
            seq: int,
            id: str,
            type: str,
            status: { enum: ["stalled", "published", "failed", "discarded"] },
            error: nullableStr,
          },
        },
      },
    },
  },
  AuditEntry: {
    type: "object",
    required: ["id", "at", "actor", "action", "target"],
    properties: { id: str, at: str, actor: str, action: str, target: str, details: {} },
  },
  ResendResult: {
    type: "object",
    properties: { seq: int, id: str, status: { enum: ["published", "failed"] }, error: str },
  },
  SubscriptionInfo: {
    type: "object",
    properties: { topic: str, name: str, pending: nullableInt, ackPending: nullableInt, redelivered: nullableInt },
  },
  CloudEvent: {
    type: "object",
    required: ["specversion", "id", "source", "type"],
    properties: {
      specversion: { const: "1.0" },
      id: str,
      source: str,
      type: str,
      time: str,
      subject: str,
      datacontenttype: str,
      dataschema: str,
      data: {},
      data_base64: str,
    },
    additionalProperties: { type: ["string", "integer", "boolean"], description: "extension attributes" },
  },
};

function schemaOf(schema: z.ZodType): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Json;
  return rest;
}

function parameters(where: "query" | "path", schema: z.ZodType): Json[] {
  const json = schemaOf(schema) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === "path" || (json.required ?? []).includes(name),
    schema: s,
    ...(typeof s.description === "string" ? { description: s.description } : {}),
  }));
}

const problem = (description: string): Json => ({
  description,
  content: { "application/problem+json": { schema: ref("Problem") } },
});
const jsonBody = (schema: Json): Json => ({ required: true, content: { "application/json": { schema } } });
const ok = (description: string, schema?: Json, status = "200"): Json => ({
  [status]: schema ? { description, content: { "application/json": { schema } } } : { description },
});

interface Operation {
  summary: string;
  auth?: boolean;
  path?: z.ZodType;
  query?: z.ZodType;
  body?: Json;
  responses: Json;
}

function operation(op: Operation): Json {
  const params = [...(op.path ? parameters("path", op.path) : []), ...(op.query ? parameters("query", op.query) : [])];
  return {
    summary: op.summary,
    ...(op.auth === false ? { security: [] } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(op.body ? { requestBody: op.body } : {}),
    responses: {
      ...op.responses,
      "400": problem("Invalid input; `errors` lists each bad field."),
      ...(op.auth === false ? {} : { "401": problem("Missing or invalid token or session.") }),
      "503": problem("The server is starting, shutting down, or cannot reach a dependency."),
    },
  };
}

export function openApiDocument(): Json {
  const paths: Record<string, Record<string, Json>> = {
    "/api/login": {
      post: operation({
        summary: "Exchange the admin token for the whisper_session cookie (HttpOnly, SameSite=Strict)",
        auth: false,
        body: jsonBody(schemaOf(loginBody)),
        responses: { "204": { description: "Logged in; Set-Cookie carries the session." }, "401": problem("Wrong token.") },
      }),
    },
    "/api/logout": {
      post: operation({ summary: "End the session (everywhere) and clear its cookie", responses: { "204": { description: "Logged out." } } }),
    },
    "/api/session": {
      get: operation({
        summary: "Who the caller is: role (admin or viewer), how authenticated, the session's expiry",
        responses: ok("The caller.", {
          type: "object",
          properties: { role: { enum: ["admin", "viewer"] }, via: { enum: ["bearer", "session"] }, expiresAt: nullableStr },
        }),
      }),
    },
    "/api/audit": {
      get: operation({
        summary: "The audit log, newest first, keyset-paginated, filtered by actor/action prefix, target, time",
        query: auditQuery,
        responses: ok("A page.", {
          type: "object",
          properties: { items: { type: "array", items: ref("AuditEntry") }, nextCursor: nullableStr },
        }),
      }),
    },
    "/api/topics": {
      get: operation({
        summary: "List topics with counts, rate, sparkline, subscriptions and paused keys",
        responses: ok("Topics.", { type: "object", properties: { topics: { type: "array", items: ref("TopicSummary") } } }),
      }),
      post: operation({
        summary: "Create (and start managing) a topic",
        body: jsonBody(schemaOf(createTopicBody)),
        responses: { ...ok("Created.", ref("TopicSummary"), "201"), "409": problem("The topic exists.") },
      }),
    },
    "/api/topics/{topic}": {
      delete: operation({
        summary: "Stop managing a topic and delete it",
        path: topicParams,
        responses: { "204": { description: "Deleted." }, "404": problem("Unknown topic.") },
      }),
    },
    "/api/topics/{topic}/events": {
      post: operation({
        summary: "Publish CloudEvents (HTTP binary, structured or batch mode) through the embedded core",
        path: topicParams,
        body: {
          required: true,
          description: "Binary mode: ce-* headers and the data as body (any content type).",
          content: {
            "application/cloudevents+json": { schema: ref("CloudEvent") },
            "application/cloudevents-batch+json": { schema: { type: "array", items: ref("CloudEvent") } },
            "*/*": { schema: {}, description: "binary mode data" },
          },
        },
        responses: {
          ...ok(
            "Outcome per event, in order. A failed event with an ordering key is stored as a stalled entry.",
            { type: "object", properties: { results: { type: "array", items: ref("PublishOutcome") } } },
            "202",
          ),
          "404": problem("Unknown topic."),
          "413": problem("Body or batch too large."),
          "415": problem("Not a CloudEvent."),
        },
      }),
    },
    "/api/topics/{topic}/failure": {
      post: operation({
        summary: "Make sends to the topic fail on purpose (in-process bus only)",
        path: topicParams,
        body: jsonBody(schemaOf(failureBody)),
        responses: {
          ...ok("The new state.", { type: "object", properties: { failing: { type: "boolean" } } }),
          "404": problem("Unknown topic."),
          "409": problem("Not the in-process bus."),
        },
      }),
    },
    "/api/messages": {
      get: operation({
        summary: "Browse recorded messages, newest first, with keyset pagination",
        query: messagesQuery,
        responses: ok("A page.", {
          type: "object",
          properties: { items: { type: "array", items: ref("MessageSummary") }, nextCursor: nullableStr },
        }),
      }),
    },
    "/api/messages/{id}": {
      get: operation({
        summary: "One recorded message with every attribute, extension and its data",
        path: messageParams,
        responses: { ...ok("The message.", ref("MessageDetail")), "404": problem("Unknown message.") },
      }),
    },
    "/api/messages/{id}/replay": {
      post: operation({
        summary: "Publish a recorded message again (new id and replayof = original id, unless keepId)",
        path: messageParams,
        body: { ...jsonBody(schemaOf(replayBody)), required: false },
        responses: {
          ...ok("Replayed.", { type: "object", properties: { id: str, topic: str, replayOf: str } }, "201"),
          "404": problem("Unknown message or topic."),
          "409": problem("The ordering key is paused."),
        },
      }),
    },
    "/api/ordering": {
      get: operation({
        summary: "Stalled ordering keys",
        query: topicQuery,
        responses: ok("Stalled entries.", {
          type: "object",
          properties: { stalled: { type: "array", items: ref("StalledEntry") } },
        }),
      }),
    },
    "/api/ordering/{stallId}/resume": {
      post: operation({
        summary: "Resume the key in the core and resend its stalled messages in their original order",
        path: stallParams,
        responses: {
          ...ok("Per-message result.", { type: "object", properties: { results: { type: "array", items: ref("ResendResult") } } }),
          "404": problem("Unknown stall."),
          "409": problem("Already resumed or discarded."),
        },
      }),
    },
    "/api/ordering/{stallId}/discard": {
      post: operation({
        summary: "Drop the stalled messages (audited)",
        path: stallParams,
        responses: {
          ...ok("Discarded.", { type: "object", properties: { discarded: int } }),
          "404": problem("Unknown stall."),
          "409": problem("Already resumed or discarded."),
        },
      }),
    },
    "/api/subscriptions": {
      get: operation({
        summary: "Subscriptions with what the driver can tell (pending, ack-pending, redelivered; null when unknown)",
        query: topicQuery,
        responses: ok("Subscriptions.", {
          type: "object",
          properties: { subscriptions: { type: "array", items: ref("SubscriptionInfo") } },
        }),
      }),
    },
    "/api/live": {
      get: operation({
        summary: "Live traffic as Server-Sent Events",
        query: liveQuery,
        responses: {
          "200": {
            description:
              "text/event-stream. Event `frame`: JSON `{ messages: MessageSummary[], dropped: number }` about every 100 ms " +
              "while there is traffic (dropped = summaries this client lost since its previous frame); comment `: ping` every 15 s.",
            content: { "text/event-stream": { schema: str } },
          },
        },
      }),
    },
    "/api/demo": {
      get: operation({
        summary: "State of the demo traffic source",
        responses: ok("The demo's state.", ref("DemoStatus")),
      }),
      post: operation({
        summary: "Start or stop the demo traffic (starting creates the demo topics)",
        body: jsonBody(schemaOf(demoBody)),
        responses: ok("The demo's new state.", ref("DemoStatus")),
      }),
    },
    "/api/health": {
      get: operation({
        summary: "Health (no authentication)",
        auth: false,
        responses: ok("Up.", {
          type: "object",
          properties: { status: str, bus: str, database: str, runtime: { type: "object" } },
        }),
      }),
    },
    "/api/openapi.json": {
      get: operation({ summary: "This document", responses: ok("OpenAPI 3.1.", { type: "object" }) }),
    },
    "/api/metrics": {
      get: operation({
        summary: "Prometheus metrics",
        responses: { "200": { description: "Text exposition format 0.0.4.", content: { "text/plain": { schema: str } } } },
      }),
    },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "whisper dashboard admin API",
      version: "1",
      description:
        "JSON API of the whisper dashboard. Errors are application/problem+json. Authenticate with " +
        "`Authorization: Bearer <WHISPER_ADMIN_TOKEN>` or the whisper_session cookie from POST /api/login.",
    },
    security: [{ bearer: [] }, { session: [] }],
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer" },
        session: { type: "apiKey", in: "cookie", name: "whisper_session" },
      },
      schemas: shapes,
    },
    paths,
  };
}
