import { z } from "zod";
import { openApiDocument } from "@/server/http/openapi";
import { parseQuery } from "@/server/http/parse";
import { json, notAllowed, route } from "@/server/http/route";
import { emptyQuery } from "@/server/contract";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = route(({ request }) => {
  parseQuery(request, emptyQuery);
  return json(z.record(z.string(), z.unknown()), openApiDocument());
});

export const { POST, PUT, PATCH, DELETE } = notAllowed("GET");
