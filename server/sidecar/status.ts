import { Code, ConnectError } from "@connectrpc/connect";
import { asAppError, type FieldError, type ProblemCode } from "@/server/errors";
import { describe } from "@/server/runtime/errors";
import { BadRequestSchema, ErrorInfoSchema, PreconditionFailureSchema } from "./gen/google/rpc/error_details_pb";

/**
 * gRPC status codes of whisper's errors. One table keyed by the app's error codes (server/errors.ts, which
 * also maps the core's ERR_* codes), so every code the HTTP API answers has its gRPC status, checked by the
 * compiler. Every status carries a google.rpc.ErrorInfo whose `reason` is whisper's own code (the core's
 * ERR_* code when the core raised it) and `domain` "whisper"; INVALID_ARGUMENT adds a BadRequest naming each
 * field, FAILED_PRECONDITION for a paused key a PreconditionFailure naming the topic and key.
 */
export const GRPC_CODES = {
  bad_request: Code.InvalidArgument,
  invalid_input: Code.InvalidArgument,
  malformed_request: Code.InvalidArgument,
  unauthorized: Code.Unauthenticated,
  forbidden: Code.PermissionDenied,
  cross_origin: Code.PermissionDenied,
  not_found: Code.NotFound,
  method_not_allowed: Code.Unimplemented,
  conflict: Code.FailedPrecondition,
  too_large: Code.ResourceExhausted,
  not_a_cloudevent: Code.InvalidArgument,
  unsupported_media_type: Code.InvalidArgument,
  too_many_requests: Code.ResourceExhausted,
  header_fields_too_large: Code.ResourceExhausted,
  internal: Code.Internal,
  unavailable: Code.Unavailable,
  invalid_message: Code.InvalidArgument,
  invalid_url: Code.InvalidArgument,
  invalid_options: Code.InvalidArgument,
  message_too_large: Code.ResourceExhausted,
  ordering_not_enabled: Code.FailedPrecondition,
  ordering_key_paused: Code.FailedPrecondition,
  publish_failed: Code.Unavailable,
  flow_control: Code.ResourceExhausted,
  topic_closed: Code.Unavailable,
  connection: Code.Unavailable,
  disconnected: Code.Unavailable,
  timeout: Code.DeadlineExceeded,
} as const satisfies Record<ProblemCode, Code>;

/** Codes the runtime reports on a publish outcome that are not errors of the app table. */
const OUTCOME_CODES: Record<string, Code> = {
  // An ordered event not confirmed within WHISPER_PUBLISH_DEADLINE_MS: its key is paused, it waits on the board.
  ERR_PUBLISH_DEADLINE: Code.DeadlineExceeded,
};

export const ERROR_DOMAIN = "whisper";

/** The gRPC code of whisper's error code `code` (an app code or the core's ERR_*); INTERNAL if unknown. */
export function grpcCodeOf(code: string): Code {
  if (Object.hasOwn(OUTCOME_CODES, code)) return OUTCOME_CODES[code]!;
  const app = asAppError(Object.assign(new Error(code), { code }));
  return app === undefined ? Code.Internal : GRPC_CODES[app.code];
}

/** A status error with ErrorInfo (reason = `reason`) and the detail messages given. */
function statusError(message: string, code: Code, reason: string, metadata: Record<string, string>, cause?: unknown): ConnectError {
  const details: ConstructorParameters<typeof ConnectError>[3] = [
    { desc: ErrorInfoSchema, value: { reason, domain: ERROR_DOMAIN, metadata } },
  ];
  return new ConnectError(message, code, undefined, details, cause);
}

/** INVALID_ARGUMENT naming every bad field (a BadRequest with one FieldViolation each); `reason` for ErrorInfo. */
export function badArgument(fields: FieldError[], reason = "invalid_input", cause?: unknown): ConnectError {
  const message = fields.map((f) => `${f.path} ${f.message}`).join("; ");
  const error = statusError(message, Code.InvalidArgument, reason, { field: fields[0]?.path ?? "" }, cause);
  error.details.push({ desc: BadRequestSchema, value: { fieldViolations: fields.map((f) => ({ field: f.path, description: f.message })) } });
  return error;
}

/** RESOURCE_EXHAUSTED for a request or an event over a size or count limit. */
export function tooLarge(message: string, field: string): ConnectError {
  return statusError(message, Code.ResourceExhausted, "too_large", { field });
}

/**
 * The status of anything thrown below a handler: a ConnectError as it is; the app's and the core's coded
 * errors by GRPC_CODES (a paused ordering key with its PreconditionFailure); anything else INTERNAL, logged,
 * its text not shown to the caller.
 */
export function toStatus(error: unknown, context: Record<string, string> = {}): ConnectError {
  if (error instanceof ConnectError) return error;
  const app = asAppError(error);
  if (app === undefined) {
    console.error("whisper: sidecar: internal error:", error);
    return statusError("internal error", Code.Internal, "internal", {});
  }
  const reason = typeof (error as { code?: unknown }).code === "string" ? ((error as { code: string }).code) : app.code;
  const code = GRPC_CODES[app.code];
  if (app.issues && app.issues.length > 0 && code === Code.InvalidArgument) return badArgument(app.issues, reason, error);
  const key = (error as { orderingKey?: unknown }).orderingKey;
  const metadata = typeof key === "string" ? { ...context, orderingKey: key } : context;
  const status = statusError(describe(app), code, reason, metadata, error);
  if (reason === "ERR_ORDERING_KEY_PAUSED" && typeof key === "string") return pausedDetails(status, context.topic ?? "", key);
  return status;
}

/** A status for a failed publish outcome (`code` and `message` as the runtime reported them). */
export function outcomeStatus(failure: { code: string; message: string }, topic: string, orderingKey: string | undefined): ConnectError {
  const metadata: Record<string, string> = orderingKey === undefined ? { topic } : { topic, orderingKey };
  const status = statusError(failure.message, grpcCodeOf(failure.code), failure.code, metadata);
  return failure.code === "ERR_ORDERING_KEY_PAUSED" && orderingKey !== undefined ? pausedDetails(status, topic, orderingKey) : status;
}

function pausedDetails(status: ConnectError, topic: string, key: string): ConnectError {
  status.details.push({
    desc: PreconditionFailureSchema,
    value: {
      violations: [
        { type: "ORDERING_KEY_PAUSED", subject: `${topic}/${key}`, description: `ordering key ${JSON.stringify(key)} of topic ${topic} is paused: call Resume` },
      ],
    },
  });
  return status;
}
