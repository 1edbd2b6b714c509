import { notFound } from "@/server/http/problem";
import { route } from "@/server/http/route";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** Any /api path without a route: a 404 problem (after authentication, so unknown paths reveal nothing). */
const unknown = route<{ path: string[] }>(async ({ request }) => {
  throw notFound(`no API route ${new URL(request.url).pathname}; see /api/openapi.json`);
});

export const GET = unknown;
export const POST = unknown;
export const PUT = unknown;
export const PATCH = unknown;
export const DELETE = unknown;
