import { parseJsonBody } from "@/server/http/parse";
import { noContent, notAllowed, publicRoute } from "@/server/http/route";
import { loginBody } from "@/server/contract";
import { logIn } from "@/server/http/session";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/**
 * Exchanges the admin or viewer token for a new session cookie (GET /api/session then tells its role).
 * Authenticates by its body, not by a session; throttled per client address (429 + Retry-After).
 */
export const POST = publicRoute(
  async ({ request, body }) => {
    const { token } = parseJsonBody(request, body, loginBody);
    return noContent({ "set-cookie": await logIn(request, token) });
  },
  { body: "login" },
);

export const { GET, PUT, PATCH, DELETE } = notAllowed("POST");
