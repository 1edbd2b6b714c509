import { discard } from "@/server/http/api";
import { parseParams } from "@/server/http/parse";
import { json, notAllowed, route } from "@/server/http/route";
import { shapes, stallParams } from "@/server/contract";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const POST = route<{ stallId: string }>(async ({ params, actor }) => {
  const { stallId } = await parseParams(params, stallParams);
  return json(shapes.DiscardResult, await discard(stallId, actor));
});

export const { GET, PUT, PATCH, DELETE } = notAllowed("POST");
