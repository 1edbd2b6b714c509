import { removeTopic } from "@/server/http/api";
import { parseParams } from "@/server/http/parse";
import { noContent, notAllowed, route } from "@/server/http/route";
import { topicParams } from "@/server/contract";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const DELETE = route<{ topic: string }>(async ({ params, actor }) => {
  const { topic } = await parseParams(params, topicParams);
  await removeTopic(topic, actor);
  return noContent();
});

export const { GET, POST, PUT, PATCH } = notAllowed("DELETE");
