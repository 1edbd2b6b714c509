import { parseQuery } from "@/server/http/parse";
import { json, notAllowed, route } from "@/server/http/route";
import { emptyQuery, shapes } from "@/server/contract";
import { sessionInfo } from "@/server/http/session";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** Who the caller is: role (admin or viewer), how authenticated, and the session's expiry. The UI asks this. */
export const GET = route(({ request, actor }) => {
  parseQuery(request, emptyQuery);
  return json(shapes.SessionInfo, sessionInfo(actor));
});

export const { POST, PUT, PATCH, DELETE } = notAllowed("GET");
