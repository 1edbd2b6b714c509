/**
 * The one error family of the app (everything outside the core): AppError with a stable `code`. The code
 * alone decides the HTTP status and the problem type (`urn:whisper:problem:<code with dashes>`), through
 * PROBLEM_CODES below; server/http/problem.ts turns any AppError into application/problem+json. Services and
 * the runtime throw the subclasses in server/services/errors.ts; the web layer throws AppError directly.
 * The core's own coded errors (server/whisper/errors.ts, `ERR_*`) map into the same table by code.
 */

/** Every code with its HTTP status. */
export const PROBLEM_CODES = {
  bad_request: 400,
  invalid_input: 400,
  malformed_request: 400,
  unauthorized: 401,
  forbidden: 403,
  cross_origin: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  too_large: 413,
  not_a_cloudevent: 415,
  unsupported_media_type: 415,
  too_many_requests: 429,
  header_fields_too_large: 431,
  internal: 500,
  unavailable: 503,
  // The core's codes (ERR_<CODE> in server/whisper/errors.ts), as the API answers them.
  invalid_message: 400,
  invalid_url: 400,
  invalid_options: 400,
  message_too_large: 413,
  ordering_not_enabled: 409,
  ordering_key_paused: 409,
  publish_failed: 502,
  flow_control: 503,
  topic_closed: 503,
  connection: 503,
  disconnected: 503,
  timeout: 504,
} as const satisfies Record<string, number>;

export type ProblemCode = keyof typeof PROBLEM_CODES;

/** Where a bad value is, e.g. "body.name" or "query.limit", and what is wrong with it. */
export interface FieldError {
  path: string;
  message: string;
}

export interface AppErrorOptions extends ErrorOptions {
  /** Each bad field (problem+json `errors`). */
  issues?: FieldError[];
  /** Extra response headers (Retry-After, Allow, WWW-Authenticate, Set-Cookie). */
  headers?: Record<string, string>;
}

export class AppError extends Error {
  readonly code: ProblemCode;
  readonly issues: FieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ProblemCode, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.issues = options.issues;
    this.headers = options.headers;
  }

  get status(): number {
    return PROBLEM_CODES[this.code];
  }
}

/** The app code of a core error code (`ERR_MESSAGE_TOO_LARGE` → `message_too_large`), if the table has it. */
export function coreCode(code: string): ProblemCode | undefined {
  if (!code.startsWith("ERR_")) return undefined;
  const key = code.slice(4).toLowerCase();
  return Object.hasOwn(PROBLEM_CODES, key) ? (key as ProblemCode) : undefined;
}

/**
 * The AppError an unknown thrown value stands for, recognised by shape as well as by class (Next bundles the
 * runtime apart from the routes, so a class can exist twice): an AppError; a core error by its ERR_ code;
 * ConfigError → unavailable. Anything else: undefined (an internal error).
 */
export function asAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (!(error instanceof Error)) return undefined;
  const e = error as Error & { code?: unknown; issues?: unknown; headers?: unknown };
  if (e.name === "ConfigError") return new AppError("unavailable", e.message, { cause: error });
  if (typeof e.code !== "string") return undefined;
  if (Object.hasOwn(PROBLEM_CODES, e.code)) {
    return new AppError(e.code as ProblemCode, e.message, {
      cause: error,
      issues: Array.isArray(e.issues) ? (e.issues as FieldError[]) : undefined,
      headers: typeof e.headers === "object" && e.headers !== null ? (e.headers as Record<string, string>) : undefined,
    });
  }
  const core = coreCode(e.code);
  return core === undefined ? undefined : new AppError(core, e.message, { cause: error });
}
