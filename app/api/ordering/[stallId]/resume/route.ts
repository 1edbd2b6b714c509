import { resume } from "@/server/http/api";
import { parseParams } from "@/server/http/parse";
import { json, notAllowed, route } from "@/server/http/route";
import { shapes, stallParams } from "@/server/contract";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** Resumes the stalled key in the core and resends its messages in their original order. */
export const POST = route<{ stallId: string }>(async ({ params, actor }) => {
  const { stallId } = await parseParams(params, stallParams);
  return json(shapes.ResumeResults, await resume(stallId, actor));
});

export const { GET, PUT, PATCH, DELETE } = notAllowed("POST");
