import type { HandlerContext } from "@connectrpc/connect";
import { AppError } from "@/server/errors";
import { unauthorized } from "@/server/http/problem";
import { bearerRole } from "@/server/http/tokens";
import type { Role, SidecarSettings } from "./backend";

/**
 * Who may call the sidecar: the metadata `authorization: Bearer <token>` with the admin or the viewer token,
 * checked as the admin API checks its header (server/http/tokens.ts). Errors are the app's: unauthorized
 * (UNAUTHENTICATED) and forbidden (PERMISSION_DENIED).
 */
export interface Caller {
  role: Role;
  /** The audit log's actor, e.g. "admin:grpc". */
  name: string;
}

/** The caller of `context`, needing at least role `needed` for `what` (e.g. "Publish"). */
export function authorizeCall(context: HandlerContext, settings: SidecarSettings, needed: Role, what: string): Caller {
  const caller = authenticateCall(context, settings);
  requireRole(caller, needed, what);
  return caller;
}

export function authenticateCall(context: HandlerContext, settings: SidecarSettings): Caller {
  const authorization = context.requestHeader.get("authorization");
  if (authorization === null) throw unauthorized("authentication required: send the metadata 'authorization: Bearer <token>'");
  const role = bearerRole(authorization, settings);
  return { role, name: `${role}:grpc` };
}

export function requireRole(caller: Caller, needed: Role, what: string): void {
  if (needed === "admin" && caller.role !== "admin") throw new AppError("forbidden", `${what} needs the admin role; this token has the viewer role`);
}
