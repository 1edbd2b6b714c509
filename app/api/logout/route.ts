import { clearedSessionCookie, isHttps } from "@/server/http/auth";
import { parseQuery } from "@/server/http/parse";
import { noContent, notAllowed, route } from "@/server/http/route";
import { emptyQuery } from "@/server/http/schemas";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const POST = route(({ request }) => {
  parseQuery(request, emptyQuery);
  return noContent({ "set-cookie": clearedSessionCookie(isHttps(request)) });
});

export const { GET, PUT, PATCH, DELETE } = notAllowed("POST");
