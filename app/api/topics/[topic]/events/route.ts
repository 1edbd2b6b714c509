import { publishEvents } from "@/server/http/api";
import { decodeEvents } from "@/server/http/events";
import { parseParams } from "@/server/http/parse";
import { json, notAllowed, route } from "@/server/http/route";
import { shapes, topicParams } from "@/server/contract";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** Publishes CloudEvents given in HTTP binary, structured or batch mode. */
export const POST = route<{ topic: string }>(
  async ({ request, params, body }) => {
    const { topic } = await parseParams(params, topicParams);
    return json(shapes.PublishResults, { results: await publishEvents(topic, decodeEvents(request, body)) }, 202);
  },
  { body: "events" },
);

export const { GET, PUT, PATCH, DELETE } = notAllowed("POST");
