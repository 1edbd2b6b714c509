import { browse } from "@/server/http/api";
import { parseQuery } from "@/server/http/parse";
import { json, notAllowed, route } from "@/server/http/route";
import { messagesQuery, shapes } from "@/server/contract";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = route(async ({ request }) => json(shapes.MessagePage, await browse(parseQuery(request, messagesQuery))));

export const { POST, PUT, PATCH, DELETE } = notAllowed("GET");
