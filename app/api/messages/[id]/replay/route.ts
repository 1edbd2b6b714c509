import { replay } from "@/server/http/api";
import { parseJsonBody, parseParams } from "@/server/http/parse";
import { json, route } from "@/server/http/route";
import { messageParams, replayBody } from "@/server/http/schemas";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const POST = route<{ id: string }>(async ({ request, params, actor }) => {
  const { id } = await parseParams(params, messageParams);
  const input = await parseJsonBody(request, replayBody);
  return json(await replay(id, input, actor), 201);
});
