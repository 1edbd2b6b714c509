import type { z } from "zod";
import { getConfig } from "../config";
import { authenticate, authorize, usesSessionCookie, type Actor, type Role } from "./auth";
import { readLimited } from "./body";
import { httpDefaults } from "./defaults";
import { AppError } from "../errors";
import { emptyQuery } from "../contract";
import { parseJsonBody } from "./parse";
import { badRequest, errorResponse, problem, problemResponse } from "./problem";
import { checkSameOrigin } from "./origin";
import { repeatedHeaders } from "./stamp";

/**
 * The wrappers every app/api route handler goes through: route() for authenticated routes, publicRoute() for
 * the two that are not (login, health). Contract, in this order:
 * - a repeated single-valued header (Authorization, Content-Type, Content-Length, Origin) is a 400;
 * - reads the request body within the route's limit (`body`: none (nothing or `{}`), login, json or events;
 *   see httpDefaults.body) BEFORE any authentication work, streaming, so an oversized or endless upload is a 413
 *   whoever sends it and never fills memory; the handler gets the bytes as `body`;
 * - route(): a state-changing request (any method but GET/HEAD/OPTIONS) authenticated by the session cookie
 *   must come from the dashboard's own origin (server/http/origin.ts; 403); then authenticates (401) and
 *   checks the role (`role`, default viewer for GET and admin for every other method; 403), so no handler
 *   runs for a caller who may not call it;
 * - an error thrown below becomes problem+json by its code (server/errors.ts, server/http/problem.ts):
 *   the app's AppErrors, the core's ERR_ codes, a configuration error (503); anything else a 500 problem
 *   (logged with its stack, never shown to the caller).
 */
export type BodyKind = keyof typeof BODY_LIMITS;

const BODY_LIMITS = {
  none: httpDefaults.body.emptyBytes,
  login: httpDefaults.body.loginBytes,
  json: httpDefaults.body.jsonBytes,
  events: httpDefaults.body.eventsBytes,
} as const;

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

interface BaseContext<P> {
  request: Request;
  params: Promise<P>;
  /** The request body, complete and within the route's limit (empty for `body: "none"`). */
  body: Uint8Array;
}

export interface RouteContext<P> extends BaseContext<P> {
  actor: Actor;
}

export interface PublicContext<P> extends BaseContext<P> {
  /** Authenticates if the request carries credentials: the actor, or undefined when it carries none or bad ones. */
  optionalActor(): Promise<Actor | undefined>;
}

type NextHandler<P> = (request: Request, context: { params: Promise<P> }) => Promise<Response>;

export interface RouteOptions {
  /** What body the route takes (default "none": any body byte is a 413). */
  body?: BodyKind;
  /** The role it needs (default: viewer for GET, admin for every other method). */
  role?: Role;
}

export function route<P = Record<string, string>>(
  handler: (context: RouteContext<P>) => Promise<Response> | Response,
  { body: bodyKind = "none", role }: RouteOptions = {},
): NextHandler<P> {
  return wrap(bodyKind, async (base) => {
    const { request } = base;
    const config = getConfig();
    const changes = !SAFE_METHODS.has(request.method);
    if (changes && usesSessionCookie(request)) checkSameOrigin(request, config.trustedOrigins, false);
    const actor = await authenticate(request, config);
    const needed = role ?? (changes ? "admin" : "viewer");
    authorize(actor, needed, `${request.method} ${new URL(request.url).pathname}`);
    return handler({ ...base, actor });
  });
}

export function publicRoute<P = Record<string, string>>(
  handler: (context: PublicContext<P>) => Promise<Response> | Response,
  { body: bodyKind = "none" }: Pick<RouteOptions, "body"> = {},
): NextHandler<P> {
  return wrap(bodyKind, (base) =>
    handler({
      ...base,
      optionalActor: async () => {
        const { request } = base;
        if (request.headers.get("authorization") === null && !usesSessionCookie(request)) return undefined;
        try {
          return await authenticate(request, getConfig());
        } catch (error) {
          if (error instanceof AppError && error.status === 401) return undefined;
          throw error;
        }
      },
    }),
  );
}

function wrap<P>(bodyKind: BodyKind, run: (base: BaseContext<P>) => Promise<Response> | Response): NextHandler<P> {
  return async (request, context) => {
    try {
      const repeated = repeatedHeaders(request).find((name) => !name.startsWith("ce-"));
      if (repeated !== undefined) throw badRequest(`header ${repeated} is given more than once`);
      const body = await readLimited(request, BODY_LIMITS[bodyKind]);
      // A route without a body takes nothing, or an empty JSON object (a JSON content type is still required).
      if (bodyKind === "none" && body.byteLength > 0) parseJsonBody(request, body, emptyQuery);
      return await run({ request, params: context?.params ?? Promise.resolve({} as P), body });
    } catch (error) {
      return errorResponse(error);
    }
  };
}

/**
 * A JSON answer in one of the contract's shapes (server/contract/shapes.ts): the compiler checks `data`
 * against `shape`, and the API contract test parses live answers with the same shape.
 */
export function json<S extends z.ZodType>(shape: S, data: z.output<S>, status = 200, headers: Record<string, string> = {}): Response {
  void shape;
  return new Response(JSON.stringify(data), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

export function noContent(headers: Record<string, string> = {}): Response {
  return new Response(null, { status: 204, headers });
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
const METHODS: readonly Method[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
type Handler = (request: Request, context: { params: Promise<unknown> }) => Promise<Response>;

/**
 * 405 problem+json handlers (with `Allow`) for the methods a route file does not implement, which Next would
 * answer with an empty 405. Each route file ends with `export const { … } = notAllowed(<its methods>)`
 * naming the others; tests/support/app.ts apiRoutes() does not count these as implemented. The answer comes
 * before authentication and without reading the body, as Next's own 405 did (the API's paths are public).
 */
export function notAllowed(...allowed: Method[]): Record<Method, Handler> {
  const allow = [...allowed, ...(allowed.includes("GET") ? ["HEAD"] : []), "OPTIONS"].join(", ");
  const handler: Handler = async (request) =>
    problemResponse(
      problem("method_not_allowed", `${request.method} is not allowed here; use ${allowed.join(" or ")}`, {
        headers: { allow },
      }),
    );
  return Object.fromEntries(METHODS.map((m) => [m, handler])) as Record<Method, Handler>;
}
