import { messageDetail } from "@/server/http/api";
import { parseParams } from "@/server/http/parse";
import { json, notAllowed, route } from "@/server/http/route";
import { messageParams, shapes } from "@/server/contract";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = route<{ id: string }>(async ({ params }) => {
  const { id } = await parseParams(params, messageParams);
  return json(shapes.MessageDetail, await messageDetail(id));
});

export const { POST, PUT, PATCH, DELETE } = notAllowed("GET");
