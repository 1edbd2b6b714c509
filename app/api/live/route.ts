import { parseQuery } from "@/server/http/parse";
import { notAllowed, route } from "@/server/http/route";
import { liveQuery } from "@/server/contract";
import { liveResponse } from "@/server/live/sse";
import { getRuntime } from "@/server/runtime";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/**
 * Server-Sent Events: `frame` events `{ messages, dropped }` about every 100 ms while there is traffic; with a
 * topic, `status` events (its TopicRecording, or null) at once and every 2 s.
 */
export const GET = route(async ({ request }) => {
  const { topic, type, limit } = parseQuery(request, liveQuery);
  const runtime = await getRuntime();
  return liveResponse(runtime.hub, {
    filter: { topic, type },
    maxPerFrame: limit,
    signal: request.signal,
    status: topic === undefined ? undefined : () => runtime.lag.of(topic) ?? null,
  });
});

export const { POST, PUT, PATCH, DELETE } = notAllowed("GET");
