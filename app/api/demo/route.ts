import { demoStatus, setDemo } from "@/server/http/api";
import { parseJsonBody, parseQuery } from "@/server/http/parse";
import { json, notAllowed, route } from "@/server/http/route";
import { demoBody, emptyQuery, shapes } from "@/server/contract";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** Whether the demo traffic source runs, and what it has published. */
export const GET = route(async ({ request }) => {
  parseQuery(request, emptyQuery);
  return json(shapes.DemoStatus, await demoStatus());
});

/** Starts or stops the demo traffic (creates the demo topics on start). */
export const POST = route(
  async ({ request, body, actor }) => json(shapes.DemoStatus, await setDemo(parseJsonBody(request, body, demoBody).running, actor)),
  { body: "json" },
);

export const { PUT, PATCH, DELETE } = notAllowed("GET", "POST");
