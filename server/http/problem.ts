import { AppError, asAppError, type FieldError, type ProblemCode } from "../errors";
import { redactText } from "../redact";

/**
 * RFC 9457 problem details. Every API error leaves the server as `application/problem+json`
 * `{ type, title, status, detail, errors? }`, built from an AppError (server/errors.ts) whose code decides the
 * status and the type `urn:whisper:problem:<code>`. A detail never shows a credential: URLs in it are redacted
 * (server/redact.ts).
 */

export type { FieldError };

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export function problemBody(error: AppError): ProblemBody {
  const body: ProblemBody = {
    type: `urn:whisper:problem:${error.code.replace(/_/g, "-")}`,
    title: TITLES[error.status] ?? "Error",
    status: error.status,
    detail: redactText(error.message),
  };
  if (error.issues !== undefined) body.errors = error.issues;
  return body;
}

export function problemResponse(error: AppError): Response {
  return new Response(JSON.stringify(problemBody(error)), {
    status: error.status,
    headers: { "content-type": PROBLEM_CONTENT_TYPE, "cache-control": "no-store", ...error.headers },
  });
}

/**
 * The response for anything thrown below a route: its AppError's problem (recognised by shape too, see
 * asAppError); anything else a 500 problem, logged with its stack and never shown. 5xx are logged.
 */
export function errorResponse(error: unknown): Response {
  const known = asAppError(error);
  if (known === undefined) {
    console.error("whisper: unhandled error in API route", error);
    return problemResponse(new AppError("internal", "internal server error; see the server log"));
  }
  if (known.status >= 500) console.error(`whisper: ${known.code} in API route:`, error);
  return problemResponse(known);
}

/** An AppError with `code`: the web layer's way to refuse a request. */
export function problem(code: ProblemCode, detail: string, options?: ConstructorParameters<typeof AppError>[2]): AppError {
  return new AppError(code, detail, options);
}

export const badRequest = (detail: string, errors?: FieldError[]) => new AppError("bad_request", detail, { issues: errors });
export const notFound = (detail: string) => new AppError("not_found", detail);
export const unauthorized = (detail: string, headers: Record<string, string> = {}) =>
  new AppError("unauthorized", detail, { headers: { "www-authenticate": 'Bearer realm="whisper"', ...headers } });
