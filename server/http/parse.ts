import { z } from "zod";
import { decodeUtf8, parseJsonText } from "./body";
import { badRequest, problem, type FieldError } from "./problem";

/**
 * zod parsing for requests. Each helper returns the parsed value or throws a 4xx AppError whose
 * `errors` list every bad field with its path (prefixed "body", "query" or "path").
 */

/** Turns zod issues into field errors under `prefix`. */
export function fieldErrors(prefix: string, error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, prefix: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const errors = fieldErrors(prefix, result.error);
    throw badRequest(`invalid ${prefix}: ${errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`, errors);
  }
  return result.data;
}

/**
 * Parses a JSON body (already read within its limit by the route wrapper) with `schema`. An empty body is
 * taken as `{}` (so all-optional bodies may be left out); a body with any other content type than JSON
 * (`application/json` or `…+json`), or none, is a 415; invalid UTF-8, too deep a nesting or a syntax error
 * is a 400.
 */
export function parseJsonBody<S extends z.ZodType>(request: Request, bytes: Uint8Array, schema: S): z.output<S> {
  if (bytes.byteLength === 0) return parseWith(schema, {}, "body");
  const type = (request.headers.get("content-type") ?? "").split(";", 1)[0]!.trim().toLowerCase();
  if (type !== "application/json" && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
    throw problem("unsupported_media_type",
      type === "" ? "a request body needs Content-Type: application/json" : `expected application/json, got ${type}`,
    );
  }
  return parseWith(schema, parseJsonText(decodeUtf8(bytes)), "body");
}

/**
 * Parses the query string with `schema`. Each parameter may be given once (a repeat is a 400); an empty value
 * (`?type=`) counts as not given, though an unknown name is still refused by a strict schema. Percent-encoding
 * that is not valid UTF-8 is a 400 (URLSearchParams would silently turn it into U+FFFD).
 */
export function parseQuery<S extends z.ZodType>(request: Request, schema: S): z.output<S> {
  const search = new URL(request.url).search.slice(1);
  const query: Record<string, string | undefined> = Object.create(null);
  for (const pair of search === "" ? [] : search.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const key = decodeQueryPart(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? "" : decodeQueryPart(pair.slice(eq + 1), key);
    if (Object.hasOwn(query, key)) {
      throw badRequest(`query parameter "${key}" is given more than once`, [{ path: `query.${key}`, message: "given more than once" }]);
    }
    query[key] = value === "" ? undefined : value;
  }
  return parseWith(schema, query, "query");
}

function decodeQueryPart(raw: string, key?: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    const where = key === undefined ? "a query parameter name" : `query parameter "${key}"`;
    throw badRequest(`${where} is not valid percent-encoded UTF-8`, [
      { path: key === undefined ? "query" : `query.${key}`, message: "is not valid percent-encoded UTF-8" },
    ]);
  }
}

/** Parses the route's path parameters. */
export async function parseParams<S extends z.ZodType>(params: Promise<unknown> | undefined, schema: S): Promise<z.output<S>> {
  return parseWith(schema, (await params) ?? {}, "path");
}
