import { createHash, timingSafeEqual } from "node:crypto";
import type { Config } from "../config";
import type { SessionRole } from "../services/sessions";
import { unauthorized } from "./problem";

/**
 * The admin and viewer tokens, checked the same way by every door that takes them: the admin API's
 * `Authorization: Bearer` header (server/http/auth.ts) and the gRPC sidecar's `authorization` metadata
 * (server/sidecar/auth.ts). Free of database code, so the standalone sidecar can use it.
 */

/** Constant-time string equality (compares fixed-length digests, so lengths leak nothing either). */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash("sha256").update(a).digest();
  const db = createHash("sha256").update(b).digest();
  return timingSafeEqual(da, db);
}

/** The configured token of each role (viewer only when configured). */
export function roleTokens(config: Pick<Config, "adminToken" | "viewerToken">): Array<[SessionRole, string]> {
  return config.viewerToken === undefined ? [["admin", config.adminToken]] : [["admin", config.adminToken], ["viewer", config.viewerToken]];
}

/** The role `token` grants, or undefined. Compares against every configured token (no early exit). */
export function roleOfToken(token: string, config: Pick<Config, "adminToken" | "viewerToken">): SessionRole | undefined {
  let role: SessionRole | undefined;
  for (const [r, expected] of roleTokens(config)) if (safeEqual(token, expected) && role === undefined) role = r;
  return role;
}

/** The role an `Authorization` value ("Bearer <token>") grants; a 401 AppError saying what is wrong otherwise. */
export function bearerRole(authorization: string, config: Pick<Config, "adminToken" | "viewerToken">): SessionRole {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw unauthorized("the Authorization header must be 'Bearer <token>'");
  const role = roleOfToken(match[1]!, config);
  if (role === undefined) throw unauthorized("the bearer token is not valid");
  return role;
}
