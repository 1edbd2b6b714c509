import { z } from "zod";
import { OPERATIONS, shapes, type Answer, type Operation } from "../contract";

/**
 * The OpenAPI 3.1 document of the admin API, rendered from the contract (server/contract): every operation of
 * OPERATIONS with its inputs (the zod schemas the routes parse with) and answers (the shapes they return),
 * plus the problem answers every operation can give. Nothing here is written by hand twice.
 */

type Json = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: "input" | "output"): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Json;
  return rest;
}

function parameters(where: "query" | "path", schema: z.ZodType): Json[] {
  const json = schemaOf(schema, "input") as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === "path" || (json.required ?? []).includes(name),
    schema: s,
    ...(typeof s.description === "string" ? { description: s.description } : {}),
  }));
}

const PROBLEM_MEDIA = "application/problem+json";

function answer(a: Answer, status: number): Json {
  if (a.body === undefined) return { description: a.description };
  if (a.body instanceof z.ZodType) {
    const media = status >= 400 ? PROBLEM_MEDIA : "application/json";
    return { description: a.description, content: { [media]: { schema: schemaOf(a.body, "output") } } };
  }
  return { description: `${a.description} ${a.body.description}`, content: { [a.body.mediaType]: { schema: { type: "string" } } } };
}

const common = (description: string): Json => ({ description, content: { [PROBLEM_MEDIA]: { schema: { $ref: "#/components/schemas/Problem" } } } });

function requestBody(op: Operation): Json | undefined {
  if (op.body === undefined) return undefined;
  if (op.body === "cloudevents") {
    const event = schemaOf(shapes.CloudEvent, "input");
    return {
      required: true,
      description: "Binary mode: ce-* headers and the data as the body (any content type).",
      content: {
        "application/cloudevents+json": { schema: event },
        "application/cloudevents-batch+json": { schema: { type: "array", items: event } },
        "*/*": { schema: {} },
      },
    };
  }
  return { required: false, content: { "application/json": { schema: schemaOf(op.body, "input") } } };
}

function render(op: Operation): Json {
  const params = [...(op.params ? parameters("path", op.params) : []), ...(op.query ? parameters("query", op.query) : [])];
  const body = requestBody(op);
  const responses: Json = {};
  for (const [status, a] of Object.entries(op.answers)) responses[status] = answer(a, Number(status));
  responses["400"] ??= common("Invalid input; `errors` lists each bad field.");
  if (op.access !== "public") responses["401"] ??= common("Missing or invalid token or session.");
  if (op.access === "admin") responses["403"] ??= common("A viewer, or a cookie-authenticated request from another origin.");
  if (op.method !== "get") responses["413"] ??= common("The body is over this route's limit.");
  responses["503"] ??= common("The server is starting, shutting down, or cannot reach a dependency.");
  return {
    summary: op.summary,
    "x-whisper-access": op.access,
    ...(op.access === "public" ? { security: [] } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(body ? { requestBody: body } : {}),
    responses,
  };
}

export function openApiDocument(): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = render(op);
  const schemas: Record<string, Json> = {};
  for (const [name, schema] of Object.entries(shapes)) {
    if (schema instanceof z.ZodType) schemas[name] = schemaOf(schema, "output");
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "whisper dashboard admin API",
      version: "1",
      description:
        "JSON API of the whisper dashboard. Errors are application/problem+json. Authenticate with " +
        "`Authorization: Bearer <token>` (WHISPER_ADMIN_TOKEN, or WHISPER_VIEWER_TOKEN for reads) or the whisper_session " +
        "cookie from POST /api/login. `x-whisper-access` says who may call an operation.",
    },
    security: [{ bearer: [] }, { session: [] }],
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer" },
        session: { type: "apiKey", in: "cookie", name: "whisper_session" },
      },
      schemas,
    },
    paths,
  };
}
