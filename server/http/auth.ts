import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { unauthorized } from "./problem";

/**
 * Admin authentication. A request is authenticated by `Authorization: Bearer <admin token>` or by the
 * `whisper_session` cookie that POST /api/login sets. The cookie holds an HMAC of the token, never the token,
 * so changing the token ends every session. Comparisons take the same time whatever the input.
 */

export const SESSION_COOKIE = "whisper_session";

/** Who made an authenticated request, for the audit log. */
export type Actor = "admin:bearer" | "admin:session";

export function sessionValue(token: string): string {
  return createHmac("sha256", token).update("whisper_session/v1").digest("base64url");
}

/** Constant-time string equality (compares fixed-length digests, so lengths leak nothing either). */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash("sha256").update(a).digest();
  const db = createHash("sha256").update(b).digest();
  return timingSafeEqual(da, db);
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

/** Returns the actor, or throws a 401 problem saying what was missing or wrong. */
export function authenticate(request: Request, token: string): Actor {
  const authorization = request.headers.get("authorization");
  if (authorization !== null) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw unauthorized("the Authorization header must be 'Bearer <token>'");
    if (!safeEqual(match[1]!, token)) throw unauthorized("the bearer token is not valid");
    return "admin:bearer";
  }
  const cookie = readCookie(request, SESSION_COOKIE);
  if (cookie !== undefined) {
    if (!safeEqual(cookie, sessionValue(token))) throw unauthorized("the session is not valid; log in again");
    return "admin:session";
  }
  throw unauthorized("authentication required: send 'Authorization: Bearer <token>' or log in");
}

/** The Set-Cookie value for a session (HttpOnly, SameSite=Strict; Secure when served over https). */
export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${sessionValue(token)}; Path=/; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`;
}

export function isHttps(request: Request): boolean {
  return new URL(request.url).protocol === "https:" || request.headers.get("x-forwarded-proto") === "https";
}
