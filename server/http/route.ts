import { ConfigError, getConfig } from "../config";
import { authenticate, authorize, usesSessionCookie, type Actor, type Role } from "./auth";
import { readLimited } from "./body";
import { httpDefaults } from "./defaults";
import { badRequest, HttpProblem, PROBLEM_CONTENT_TYPE, problemResponse, unavailable } from "./problem";
import { checkSameOrigin } from "./origin";
import { repeatedHeaders } from "./stamp";

/**
 * The wrappers every app/api route handler goes through: route() for authenticated routes, publicRoute() for
 * the two that are not (login, health). Contract, in this order:
 * - a repeated single-valued header (Authorization, Content-Type, Content-Length, Origin) is a 400;
 * - reads the request body within the route's limit (`body`: none, login, json or events; see
 *   httpDefaults.body) BEFORE any authentication work, streaming, so an oversized or endless upload is a 413
 *   whoever sends it and never fills memory; the handler gets the bytes as `body`;
 * - route(): a state-changing request (any method but GET/HEAD/OPTIONS) authenticated by the session cookie
 *   must come from the dashboard's own origin (server/http/origin.ts; 403); then authenticates (401) and
 *   checks the role (`role`, default viewer for GET and admin for every other method; 403), so no handler
 *   runs for a caller who may not call it;
 * - an HttpProblem thrown by the handler becomes its problem+json response; any other error becomes a 500
 *   problem (logged with its stack, never shown to the caller);
 * - a configuration error becomes a 503 problem naming it.
 */
export type BodyKind = keyof typeof BODY_LIMITS;

const BODY_LIMITS = {
  none: 0,
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
          if (error instanceof HttpProblem && error.status === 401) return undefined;
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
      return await run({ request, params: context?.params ?? Promise.resolve({} as P), body });
    } catch (error) {
      return errorResponse(error);
    }
  };
}

/**
 * The response for an error thrown below a route. Errors are recognised by shape, not by class, because the
 * runtime's copy of a class (instrumentation bundle) is not the route's copy:
 * - HttpProblem → its own problem;
 * - a service error (`status` 4xx, `code`, optional `issues`) → that status;
 * - a whisper core error (`code` ERR_…) → the status its code implies;
 * - ConfigError → 503; anything else → 500 (logged, details never sent).
 */
export function errorResponse(error: unknown): Response {
  if (error instanceof HttpProblem) return problemResponse(error);
  if (!(error instanceof Error)) return internal(error);
  const e = error as Error & { status?: unknown; code?: unknown; issues?: unknown; toBody?: unknown };
  if (e.name === "HttpProblem" && typeof e.toBody === "function" && typeof e.status === "number") {
    return new Response(JSON.stringify((e.toBody as () => unknown).call(e)), {
      status: e.status,
      headers: { "content-type": PROBLEM_CONTENT_TYPE, "cache-control": "no-store" },
    });
  }
  if (error instanceof ConfigError || e.name === "ConfigError") return problemResponse(unavailable(e.message));
  if (typeof e.status === "number" && ((e.status >= 400 && e.status < 500) || e.status === 503) && typeof e.code === "string") {
    const errors = Array.isArray(e.issues)
      ? (e.issues as Array<{ path?: unknown; message?: unknown }>).map((i) => ({
          path: String(i.path ?? ""),
          message: String(i.message ?? ""),
        }))
      : undefined;
    return problemResponse(new HttpProblem(e.status, e.code.replace(/_/g, "-"), e.message, { errors }));
  }
  if (typeof e.code === "string" && e.code.startsWith("ERR_")) {
    const status = WHISPER_STATUS[e.code] ?? 500;
    if (status >= 500) console.error("whisper: core error in API route", error);
    return problemResponse(new HttpProblem(status, e.code.slice(4).toLowerCase().replace(/_/g, "-"), e.message));
  }
  return internal(error);
}

/** HTTP status for the whisper core's error codes (server/whisper/errors.ts). */
const WHISPER_STATUS: Record<string, number> = {
  ERR_INVALID_MESSAGE: 400,
  ERR_INVALID_URL: 400,
  ERR_INVALID_OPTIONS: 400,
  ERR_MESSAGE_TOO_LARGE: 413,
  ERR_ORDERING_NOT_ENABLED: 409,
  ERR_ORDERING_KEY_PAUSED: 409,
  ERR_NOT_FOUND: 404,
  ERR_FLOW_CONTROL: 503,
  ERR_TOPIC_CLOSED: 503,
  ERR_CONNECTION: 503,
  ERR_DISCONNECTED: 503,
  ERR_TIMEOUT: 504,
  ERR_PUBLISH_FAILED: 502,
};

function internal(error: unknown): Response {
  console.error("whisper: unhandled error in API route", error);
  return problemResponse(new HttpProblem(500, "internal", "internal server error; see the server log"));
}

export function json(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
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
      new HttpProblem(405, "method-not-allowed", `${request.method} is not allowed here; use ${allowed.join(" or ")}`, {
        headers: { allow },
      }),
    );
  return Object.fromEntries(METHODS.map((m) => [m, handler])) as Record<Method, Handler>;
}
