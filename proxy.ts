import { NextResponse, type NextRequest } from "next/server";
import { badPathReason, newNonce, pageCsp } from "./server/http/headers";
import { badRequest, problemResponse } from "./server/http/problem";

/**
 * Next.js Proxy: runs before routing for the requests its matcher selects. Contract:
 * - a path segment that is not valid percent-encoded UTF-8 or holds NUL is a 400 (problem+json under /api,
 *   text otherwise) before Next tries to route it (Next would answer a bare 500);
 * - every page gets a fresh nonce and the CSP built on it (server/http/headers.ts): Next reads the nonce from
 *   the request's Content-Security-Policy header and stamps its own scripts with it.
 * The matcher keeps API requests out unless their path holds a '%': Next copies the body of every request a
 * proxy runs for (up to 10 MB), and API bodies are read, within their limits, by the route wrapper instead.
 */
export function proxy(request: NextRequest): NextResponse | Response {
  const pathname = new URL(request.url).pathname;
  const reason = badPathReason(pathname);
  const api = pathname === "/api" || pathname.startsWith("/api/");
  if (reason !== undefined) {
    return api ? problemResponse(badRequest(reason)) : new NextResponse(`Bad Request: ${reason}\n`, { status: 400 });
  }
  if (api) return NextResponse.next();
  const csp = pageCsp(newNonce(), process.env.NODE_ENV === "development");
  const headers = new Headers(request.headers);
  headers.set("content-security-policy", csp);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set("content-security-policy", csp);
  return response;
}

export const config = {
  matcher: [
    // Pages (everything but the API and Next's static files).
    "/((?!api/|_next/static/|_next/image|favicon.ico).*)",
    // API paths with percent-encoding, to refuse the undecodable ones.
    "/api/:path(.*%.*)",
  ],
};
