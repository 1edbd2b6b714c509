import { removeTopic, updateTopic } from "@/server/http/api";
import { parseJsonBody, parseParams } from "@/server/http/parse";
import { json, noContent, notAllowed, route } from "@/server/http/route";
import { shapes, topicParams, updateTopicBody } from "@/server/contract";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** Changes a topic's retention; answers the topic summary after the change. */
export const PATCH = route<{ topic: string }>(
  async ({ request, params, body, actor }) => {
    const { topic } = await parseParams(params, topicParams);
    return json(shapes.TopicSummary, await updateTopic(topic, parseJsonBody(request, body, updateTopicBody), actor));
  },
  { body: "json" },
);

export const DELETE = route<{ topic: string }>(async ({ params, actor }) => {
  const { topic } = await parseParams(params, topicParams);
  await removeTopic(topic, actor);
  return noContent();
});

export const { GET, POST, PUT } = notAllowed("PATCH", "DELETE");
