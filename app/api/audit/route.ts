import { auditLog } from "@/server/http/api";
import { parseQuery } from "@/server/http/parse";
import { json, notAllowed, route } from "@/server/http/route";
import { auditQuery, shapes } from "@/server/contract";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** The audit log, newest first, keyset-paginated and filtered (actor, action, target, time). */
export const GET = route(async ({ request }) => json(shapes.AuditPage, await auditLog(parseQuery(request, auditQuery))));

export const { POST, PUT, PATCH, DELETE } = notAllowed("GET");
