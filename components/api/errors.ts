import type { Problem } from "./types";

/**
 * A failed API call. `status` is the HTTP status (0 when the request never reached the server);
 * `problem` is the parsed application/problem+json body when the server sent one.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | null;

  constructor(status: number, problem: Problem | null, fallback: string) {
    super(problem?.detail || problem?.title || fallback);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }
}

/** A human sentence for any error thrown by a query or mutation. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    const title = error.problem?.title;
    const detail = error.problem?.detail;
    if (title && detail && title !== detail) return `${title}: ${detail}`;
    return detail || title || error.message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Validation details of a problem body (`errors`), flattened to lines; empty when there are none. */
export function problemDetails(error: unknown): string[] {
  if (!(error instanceof ApiError)) return [];
  const errors = error.problem?.errors;
  if (!errors) return [];
  if (Array.isArray(errors)) {
    return errors.map((e) => {
      if (e && typeof e === "object") {
        const { path, message } = e as { path?: unknown; message?: unknown };
        const where = Array.isArray(path) ? path.join(".") : typeof path === "string" ? path : "";
        if (typeof message === "string") return where ? `${where}: ${message}` : message;
      }
      return typeof e === "string" ? e : JSON.stringify(e);
    });
  }
  if (typeof errors === "object") {
    return Object.entries(errors as Record<string, unknown>).map(
      ([key, value]) => `${key}: ${Array.isArray(value) ? value.join(", ") : String(value)}`,
    );
  }
  return [String(errors)];
}
