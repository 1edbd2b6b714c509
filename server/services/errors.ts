import type { z } from "zod";
import { AppError, type FieldError } from "@/server/errors";

/**
 * The errors the services and the runtime throw for the caller's mistakes and for unavailable dependencies:
 * members of the app's one error family (server/errors.ts), so their code decides the HTTP answer. Anything
 * else a service throws is a server-side failure (500).
 */

/** Input that fails validation; `issues` lists each problem with its path (for problem+json `errors`). */
export class InvalidInputError extends AppError {
  constructor(message: string, issues: FieldError[] = [], options?: ErrorOptions) {
    super("invalid_input", message, { ...options, issues });
  }

  static fromZod(what: string, error: z.ZodError): InvalidInputError {
    const issues = error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
    return new InvalidInputError(`invalid ${what}: ${summary}`, issues, { cause: error });
  }
}

export class NotFoundError extends AppError {
  constructor(what: string, id: string) {
    super("not_found", `${what} ${JSON.stringify(id)} not found`);
  }
}

/** The request conflicts with the current state (e.g. a stall already resumed or being resumed). */
export class ConflictError extends AppError {
  constructor(message: string) {
    super("conflict", message);
  }
}

/** A dependency (the broker, the database) cannot do what was asked right now; retrying later may work. */
export class UnavailableError extends AppError {
  constructor(message: string, options?: ErrorOptions) {
    super("unavailable", message, options);
  }
}

/** Parses `input` with `schema` or throws InvalidInputError naming `what`. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw InvalidInputError.fromZod(what, result.error);
  return result.data;
}
