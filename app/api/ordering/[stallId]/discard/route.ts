import { discard } from "@/server/http/api";
import { parseParams } from "@/server/http/parse";
import { json, notAllowed, route } from "@/server/http/route";
import { stallParams } from "@/server/http/schemas";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const POST = route<{ stallId: string }>(async ({ params, actor }) => {
  const { stallId } = await parseParams(params, stallParams);
  return json(await discard(stallId, actor));
});

export const { GET, PUT, PATCH, DELETE } = notAllowed("POST");
