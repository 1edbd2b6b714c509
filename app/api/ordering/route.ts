import { stalled } from "@/server/http/api";
import { parseQuery } from "@/server/http/parse";
import { json, notAllowed, route } from "@/server/http/route";
import { shapes, topicQuery } from "@/server/contract";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = route(async ({ request }) => {
  const { topic } = parseQuery(request, topicQuery);
  return json(shapes.StalledList, await stalled(topic));
});

export const { POST, PUT, PATCH, DELETE } = notAllowed("GET");
