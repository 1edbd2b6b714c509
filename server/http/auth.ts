import { scryptSync } from "node:crypto";
import type { Config } from "../config";
import { endSession, findSession, touchSession, type SessionRole, type SessionRow } from "../services/sessions";
import { httpDefaults } from "./defaults";
import { problem, unauthorized } from "./problem";
import { bearerRole, safeEqual, roleTokens } from "./tokens";

export { safeEqual, roleTokens, roleOfToken, bearerRole } from "./tokens";

/**
 * Who may call the admin API. A request authenticates with `Authorization: Bearer <token>` (the admin or the
 * viewer token) or with the `whisper_session` cookie of a session opened by POST /api/login
 * (server/services/sessions.ts). Contract:
 * - token comparisons take the same time whatever the input;
 * - a session is refused (401, and its row deleted) once idle longer than the configured idle limit, past its
 *   absolute expiry, or when the token that opened it is no longer the configured token of its role, so
 *   rotating a token ends its sessions; a refused cookie is cleared in the answer;
 * - authorize() refuses a viewer an admin action with 403.
 */

export const SESSION_COOKIE = "whisper_session";

export type Role = SessionRole;

/** Who made an authenticated request. */
export interface Actor {
  role: Role;
  via: "bearer" | "session";
  /** The audit log's actor: "admin:bearer", "viewer:session:1a2b3c4d" (a session's short id). */
  name: string;
  /** The session's stored id, when authenticated by session. */
  session?: SessionRow;
}

const TOKEN_HASHES = new Map<string, string>();

/**
 * The stored fingerprint of a token: scrypt with a fixed salt, so a leaked sessions table costs a guesser
 * an scrypt per try. Memoised per process (a handful of tokens).
 */
export function tokenHash(token: string): string {
  let hash = TOKEN_HASHES.get(token);
  if (hash === undefined) {
    hash = scryptSync(token, "whisper/session-token/v1", 32).toString("hex");
    if (TOKEN_HASHES.size > 16) TOKEN_HASHES.clear();
    TOKEN_HASHES.set(token, hash);
  }
  return hash;
}

export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.get("cookie");
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** True when the request carries a session cookie and no Authorization header (the cookie decides). */
export function usesSessionCookie(request: Request): boolean {
  return request.headers.get("authorization") === null && readCookie(request, SESSION_COOKIE) !== undefined;
}

type AuthConfig = Pick<Config, "adminToken" | "viewerToken" | "sessionIdleMs">;

/** Returns the actor, or throws a 401 problem saying what was missing or wrong. */
export async function authenticate(request: Request, config: AuthConfig, now = new Date()): Promise<Actor> {
  const authorization = request.headers.get("authorization");
  if (authorization !== null) {
    const role = bearerRole(authorization, config);
    return { role, via: "bearer", name: `${role}:bearer` };
  }
  const cookie = readCookie(request, SESSION_COOKIE);
  if (cookie !== undefined) return sessionActor(request, cookie, config, now);
  throw unauthorized("authentication required: send 'Authorization: Bearer <token>' or log in");
}

async function sessionActor(request: Request, cookie: string, config: AuthConfig, now: Date): Promise<Actor> {
  const session = await findSession(cookie);
  const refuse = async (why: string): Promise<never> => {
    if (session) await endSession(session.idHash);
    throw problem("unauthorized", `${why}; log in again`, {
      headers: { "www-authenticate": 'Bearer realm="whisper"', "set-cookie": clearedSessionCookie(isHttps(request)) },
    });
  };
  if (!session) return refuse("the session is not valid (ended, or never opened)");
  if (session.expiresAt.getTime() <= now.getTime()) return refuse("the session expired");
  if (now.getTime() - session.lastSeenAt.getTime() > config.sessionIdleMs) return refuse("the session expired after inactivity");
  const current = roleTokens(config).find(([role]) => role === session.role)?.[1];
  if (current === undefined || !safeEqual(tokenHash(current), session.tokenHash)) {
    return refuse(`the ${session.role} token changed since this session was opened`);
  }
  if (now.getTime() - session.lastSeenAt.getTime() > httpDefaults.session.touchEveryMs) await touchSession(session.idHash, now);
  return { role: session.role, via: "session", name: `${session.role}:session:${session.idHash.slice(0, 8)}`, session };
}

/** Refuses a viewer what only admins may do (403). */
export function authorize(actor: Actor, needed: Role, what: string): void {
  if (needed === "admin" && actor.role !== "admin") {
    throw problem("forbidden", `${what} needs the admin role; this ${actor.via} has the viewer role`);
  }
}

/** The Set-Cookie value for a session (HttpOnly, SameSite=Strict, Max-Age to its expiry; Secure over https). */
export function sessionCookie(id: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? "; Secure" : ""}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`;
}

export function isHttps(request: Request): boolean {
  return new URL(request.url).protocol === "https:" || request.headers.get("x-forwarded-proto") === "https";
}
