import { z } from "zod";
import { badRequest, HttpProblem, type FieldError } from "./problem";

/**
 * zod parsing for requests. Each helper returns the parsed value or throws a 4xx HttpProblem whose
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

/** Largest JSON body the admin API accepts (events have their own limit). */
export const MAX_JSON_BYTES = 1024 * 1024;

/** Reads the body as text, refusing more than `limit` bytes with 413. */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    throw new HttpProblem(413, "too-large", `request body of ${declared} bytes exceeds the limit of ${limit} bytes`);
  }
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > limit) {
    throw new HttpProblem(413, "too-large", `request body exceeds the limit of ${limit} bytes`);
  }
  return bytes;
}

/**
 * Parses a JSON body with `schema`. An empty body is taken as `{}` (so all-optional bodies may be left out);
 * a body that is not JSON is a 400; a content type other than JSON is a 415.
 */
export async function parseJsonBody<S extends z.ZodType>(request: Request, schema: S): Promise<z.output<S>> {
  const bytes = await readBody(request, MAX_JSON_BYTES);
  if (bytes.byteLength === 0) return parseWith(schema, {}, "body");
  const type = (request.headers.get("content-type") ?? "").split(";", 1)[0]!.trim().toLowerCase();
  if (type !== "" && type !== "application/json" && !type.endsWith("+json")) {
    throw new HttpProblem(415, "unsupported-media-type", `expected application/json, got ${type}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw badRequest(`body is not valid JSON: ${(error as Error).message}`);
  }
  return parseWith(schema, value, "body");
}

/**
 * Parses the query string with `schema`. Each parameter may be given once (a repeat is a 400); an empty value
 * (`?type=`) counts as not given, though an unknown name is still refused by a strict schema.
 */
export function parseQuery<S extends z.ZodType>(request: Request, schema: S): z.output<S> {
  const params = new URL(request.url).searchParams;
  const query: Record<string, string | undefined> = {};
  for (const [key, value] of params) {
    if (key in query) throw badRequest(`query parameter "${key}" is given more than once`, [{ path: `query.${key}`, message: "given more than once" }]);
    query[key] = value === "" ? undefined : value;
  }
  return parseWith(schema, query, "query");
}

/** Parses the route's path parameters. */
export async function parseParams<S extends z.ZodType>(params: Promise<unknown> | undefined, schema: S): Promise<z.output<S>> {
  return parseWith(schema, (await params) ?? {}, "path");
}
