import type { z } from "zod";
import { getConfig } from "../config";
import type { shapes } from "../contract";
import { audit } from "../services/audit";
import { endSession, openSession, pruneSessions } from "../services/sessions";
import { clearedSessionCookie, isHttps, roleOfToken, roleTokens, sessionCookie, tokenHash, type Actor } from "./auth";
import { checkSameOrigin } from "./origin";
import { unauthorized } from "./problem";
import { clientAddress } from "./stamp";
import { loginThrottle } from "./throttle";

/**
 * Logging in and out. Contract:
 * - logIn(): a browser login must come from the dashboard's own origin (a script without Origin may log in);
 *   an address with too many recent failures gets 429 + Retry-After before its token is even compared; a
 *   wrong token counts a failure (401); a right one opens a new random session for the token's role
 *   (every login a new id), prunes expired and stale-token sessions, and is audited as `session.login`;
 * - logOut(): deletes the caller's session row (so the cookie is dead everywhere, even if kept), audited as
 *   `session.logout`; returns the Set-Cookie that clears it.
 */

/** Who the caller is (GET /api/session), in the contract's shape. */
export type SessionInfo = z.output<typeof shapes.SessionInfo>;

/** Opens a session for `token`; resolves to the Set-Cookie value. */
export async function logIn(request: Request, token: string, now = new Date()): Promise<string> {
  const config = getConfig();
  checkSameOrigin(request, config.trustedOrigins, true);
  const client = clientAddress(request, config.trustedProxies);
  const throttle = loginThrottle();
  throttle.check(client, now.getTime());
  const role = roleOfToken(token, config);
  if (role === undefined) {
    throttle.failed(client, now.getTime());
    throw unauthorized("the token is not valid");
  }
  throttle.succeeded(client);
  await pruneSessions(now, config.sessionIdleMs, roleTokens(config).map(([, t]) => tokenHash(t)));
  const { id, row } = await openSession({ role, tokenHash: tokenHash(token), client, now, absoluteMs: config.sessionAbsoluteMs });
  const short = row.idHash.slice(0, 8);
  await audit(`${role}:session:${short}`, "session.login", `session:${short}`, { client });
  const maxAge = Math.floor(config.sessionAbsoluteMs / 1000);
  return sessionCookie(id, maxAge, isHttps(request));
}

export async function logOut(request: Request, actor: Actor): Promise<string> {
  if (actor.session) {
    await endSession(actor.session.idHash);
    await audit(actor.name, "session.logout", `session:${actor.session.idHash.slice(0, 8)}`);
  }
  return clearedSessionCookie(isHttps(request));
}

export function sessionInfo(actor: Actor): SessionInfo {
  return { role: actor.role, via: actor.via, expiresAt: actor.session?.expiresAt.toISOString() ?? null };
}
