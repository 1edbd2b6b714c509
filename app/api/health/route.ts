import { health } from "@/server/http/api";
import { parseQuery } from "@/server/http/parse";
import { json, notAllowed, publicRoute } from "@/server/http/route";
import { emptyQuery } from "@/server/http/schemas";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** Liveness and readiness, without authentication; reveals nothing secret. */
export const GET = publicRoute(
  async ({ request }) => {
    parseQuery(request, emptyQuery);
    const { status, body } = await health();
    return json(body, status);
  },
);

export const { POST, PUT, PATCH, DELETE } = notAllowed("GET");
