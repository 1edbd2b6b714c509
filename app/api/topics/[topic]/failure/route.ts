import { setFailing } from "@/server/http/api";
import { parseJsonBody, parseParams } from "@/server/http/parse";
import { json, notAllowed, route } from "@/server/http/route";
import { failureBody, shapes, topicParams } from "@/server/contract";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** Makes sends to the topic fail on purpose (in-process bus only), to demonstrate and test stalls. */
export const POST = route<{ topic: string }>(
  async ({ request, params, body, actor }) => {
    const { topic } = await parseParams(params, topicParams);
    const { failing } = parseJsonBody(request, body, failureBody);
    return json(shapes.FailureState, await setFailing(topic, failing, actor));
  },
  { body: "json" },
);

export const { GET, PUT, PATCH, DELETE } = notAllowed("POST");
