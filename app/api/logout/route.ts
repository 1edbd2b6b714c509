import { parseQuery } from "@/server/http/parse";
import { noContent, notAllowed, route } from "@/server/http/route";
import { emptyQuery } from "@/server/contract";
import { logOut } from "@/server/http/session";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** Ends the caller's session everywhere (its row is deleted) and clears the cookie. Viewers may log out too. */
export const POST = route(
  async ({ request, actor }) => {
    parseQuery(request, emptyQuery);
    return noContent({ "set-cookie": await logOut(request, actor) });
  },
  { role: "viewer" },
);

export const { GET, PUT, PATCH, DELETE } = notAllowed("POST");
