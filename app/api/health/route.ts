import { healthFor } from "@/server/http/api";
import { parseQuery } from "@/server/http/parse";
import { json, notAllowed, publicRoute } from "@/server/http/route";
import { emptyQuery, shapes } from "@/server/contract";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/**
 * Liveness and readiness. Without credentials only `{ status }` (ok, degraded, starting, stopping, error) with
 * its HTTP status, for probes; with a token or session every detail as well.
 */
export const GET = publicRoute(async ({ request, optionalActor }) => {
  parseQuery(request, emptyQuery);
  const { status, body } = await healthFor(await optionalActor());
  return json(shapes.Health, body, status);
});

export const { POST, PUT, PATCH, DELETE } = notAllowed("GET");
