import { createTopic, topicSummaries } from "@/server/http/api";
import { parseJsonBody, parseQuery } from "@/server/http/parse";
import { json, notAllowed, route } from "@/server/http/route";
import { createTopicBody, emptyQuery, shapes } from "@/server/contract";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = route(async ({ request }) => {
  parseQuery(request, emptyQuery);
  return json(shapes.TopicList, { topics: await topicSummaries() });
});

export const POST = route(
  async ({ request, body, actor }) => json(shapes.TopicSummary, await createTopic(parseJsonBody(request, body, createTopicBody), actor), 201),
  { body: "json" },
);

export const { PUT, PATCH, DELETE } = notAllowed("GET", "POST");
