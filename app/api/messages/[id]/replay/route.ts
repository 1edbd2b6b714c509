import { replay } from "@/server/http/api";
import { parseJsonBody, parseParams } from "@/server/http/parse";
import { json, notAllowed, route } from "@/server/http/route";
import { messageParams, replayBody, shapes } from "@/server/contract";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const POST = route<{ id: string }>(
  async ({ request, params, body, actor }) => {
    const { id } = await parseParams(params, messageParams);
    return json(shapes.ReplayResult, await replay(id, parseJsonBody(request, body, replayBody), actor), 201);
  },
  { body: "json" },
);

export const { GET, PUT, PATCH, DELETE } = notAllowed("POST");
