import { decodeEvents, publishEvents } from "@/server/http/api";
import { parseParams } from "@/server/http/parse";
import { json, route } from "@/server/http/route";
import { topicParams } from "@/server/http/schemas";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** Publishes CloudEvents given in HTTP binary, structured or batch mode. */
export const POST = route<{ topic: string }>(async ({ request, params }) => {
  const { topic } = await parseParams(params, topicParams);
  const messages = await decodeEvents(request);
  return json({ results: await publishEvents(topic, messages) }, 202);
});
