import type { z } from "zod";

/**
 * Errors the services and the runtime throw, each with the HTTP status the web server should answer with:
 * the caller's mistakes (4xx) and a dependency that is unavailable (503). Anything else is a server-side
 * failure (500).
 */
export class ServiceError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 | 503,
    /** Stable machine-readable code. */
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that fails validation; `issues` lists each problem with its path (for problem+json `errors`). */
export class InvalidInputError extends ServiceError {
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[] = [],
    options?: ErrorOptions,
  ) {
    super(message, 400, "invalid_input", options);
  }

  static fromZod(what: string, error: z.ZodError): InvalidInputError {
    const issues = error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
    return new InvalidInputError(`invalid ${what}: ${summary}`, issues, { cause: error });
  }
}

export class NotFoundError extends ServiceError {
  constructor(what: string, id: string) {
    super(`${what} ${JSON.stringify(id)} not found`, 404, "not_found");
  }
}

/** The request conflicts with the current state (e.g. a stall already resumed or being resumed). */
export class ConflictError extends ServiceError {
  constructor(message: string) {
    super(message, 409, "conflict");
  }
}

/** A dependency (the broker, the database) cannot do what was asked right now; retrying later may work. */
export class UnavailableError extends ServiceError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 503, "unavailable", options);
  }
}

/** Parses `input` with `schema` or throws InvalidInputError naming `what`. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw InvalidInputError.fromZod(what, result.error);
  return result.data;
}
