import { metricsText } from "@/server/http/api";
import { parseQuery } from "@/server/http/parse";
import { notAllowed, route } from "@/server/http/route";
import { emptyQuery } from "@/server/contract";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** Prometheus text exposition of this process. */
export const GET = route(
  async ({ request }) => {
    parseQuery(request, emptyQuery);
    return new Response(await metricsText(), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" },
    });
  },
);

export const { POST, PUT, PATCH, DELETE } = notAllowed("GET");
