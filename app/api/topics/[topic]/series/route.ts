import { topicSeries } from "@/server/http/api";
import { parseParams, parseQuery } from "@/server/http/parse";
import { json, notAllowed, route } from "@/server/http/route";
import { seriesQuery, shapes, topicParams } from "@/server/contract";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** The topic's activity over a range (recorded, published, failed, the recorder's lag), for its charts. */
export const GET = route<{ topic: string }>(async ({ request, params }) => {
  const { topic } = await parseParams(params, topicParams);
  return json(shapes.TopicSeries, await topicSeries(topic, parseQuery(request, seriesQuery)));
});

export const { POST, PUT, PATCH, DELETE } = notAllowed("GET");
