import { stalledMessages } from "@/server/http/api";
import { parseParams, parseQuery } from "@/server/http/parse";
import { json, notAllowed, route } from "@/server/http/route";
import { shapes, stallMessagesQuery, stallParams } from "@/server/contract";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** Every message of a stall entry in original order, a page at a time (the board's "show all"). */
export const GET = route<{ stallId: string }>(async ({ params, request }) => {
  const { stallId } = await parseParams(params, stallParams);
  const page = parseQuery(request, stallMessagesQuery);
  return json(shapes.StalledMessagePage, await stalledMessages(stallId, page));
});

export const { POST, PUT, PATCH, DELETE } = notAllowed("GET");
