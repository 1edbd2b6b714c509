import { getConfig } from "@/server/config";
import { isHttps, safeEqual, sessionCookie } from "@/server/http/auth";
import { parseJsonBody } from "@/server/http/parse";
import { unauthorized } from "@/server/http/problem";
import { noContent, notAllowed, route } from "@/server/http/route";
import { loginBody } from "@/server/http/schemas";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** Exchanges the admin token for the session cookie. This route authenticates by its body, not by a session. */
export const POST = route(
  async ({ request, body }) => {
    const { token } = parseJsonBody(request, body, loginBody);
    const expected = getConfig().adminToken;
    if (!safeEqual(token, expected)) throw unauthorized("the token is not valid");
    return noContent({ "set-cookie": sessionCookie(expected, isHttps(request)) });
  },
  { auth: false, body: "login" },
);

export const { GET, PUT, PATCH, DELETE } = notAllowed("POST");
