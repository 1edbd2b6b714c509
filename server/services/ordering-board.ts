import { z } from "zod";
import { db } from "@/server/db";
import { NotFoundError, parseInput } from "./errors";
import { stallFields } from "./ordering";
import { topicNameSchema } from "./topics";
import type { StalledKeySummary, StalledMessageInfo } from "./types";

/**
 * What the ordering board reads: a bounded summary per stalled key, and the messages of one entry page by
 * page. The board polls the summary every few seconds, so its size must not grow with the number of messages
 * waiting behind a key (a key can hold thousands): it carries counts and the first few waiting messages only.
 */

/** Waiting messages per key in the board's list; "show all" pages through the rest. */
export const STALL_PREVIEW_MESSAGES = 5;
/** Keys in one board answer at most (newest first); `totalKeys` says how many are open. */
export const STALL_LIST_MAX_KEYS = 200;
/** Statuses of an open entry and of a waiting message (what Resume resends and Discard drops). */
const OPEN = ["stalled", "failed"] as const;

const stallIdSchema = z.string().min(1).max(100);
const pageSchema = z.strictObject({
  cursor: z.number().int().min(1).max(2_147_483_647).optional(),
  limit: z.number().int().min(1).max(500),
});

type MessageRecord = { stall_id: string; seq: number; message_id: string; type: string; status: StalledMessageInfo["status"]; error: string | null };

const messageInfo = (r: MessageRecord): StalledMessageInfo => ({ seq: r.seq, id: r.message_id, type: r.type, status: r.status, error: r.error });

/**
 * The open stall entries (stalled, or failed on a resume), newest first, at most STALL_LIST_MAX_KEYS, each with
 * its message counts and its first STALL_PREVIEW_MESSAGES waiting messages in original order. Three queries,
 * whatever the number of keys or messages.
 */
export async function summarizeStalled(topic?: string): Promise<{ stalled: StalledKeySummary[]; totalKeys: number }> {
  const name = topic === undefined || topic === "" ? undefined : parseInput(topicNameSchema, topic, "topic name");
  const { prisma, pool } = db();
  const where = { status: { in: [...OPEN] }, ...(name === undefined ? {} : { topic: name }) };
  const [stalls, totalKeys] = await Promise.all([
    prisma.stall.findMany({ where, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: STALL_LIST_MAX_KEYS }),
    prisma.stall.count({ where }),
  ]);
  if (stalls.length === 0) return { stalled: [], totalKeys };
  const ids = stalls.map((s) => s.id);
  const [counts, preview] = await Promise.all([
    pool.query<{ stall_id: string; total: number; waiting: number }>(
      `SELECT stall_id, count(*)::int AS total,
              count(*) FILTER (WHERE status IN ('stalled', 'failed'))::int AS waiting
         FROM stalled_messages WHERE stall_id = ANY($1) GROUP BY stall_id`,
      [ids],
    ),
    pool.query<MessageRecord>(
      `SELECT stall_id, seq, message_id, type, status::text AS status, error FROM (
         SELECT stall_id, seq, message_id, type, status, error,
                row_number() OVER (PARTITION BY stall_id ORDER BY seq) AS n
           FROM stalled_messages WHERE stall_id = ANY($1) AND status IN ('stalled', 'failed')
       ) waiting WHERE n <= $2 ORDER BY stall_id, seq`,
      [ids, STALL_PREVIEW_MESSAGES],
    ),
  ]);
  const countOf = new Map(counts.rows.map((r) => [r.stall_id, r]));
  const previewOf = new Map<string, StalledMessageInfo[]>();
  for (const r of preview.rows) previewOf.set(r.stall_id, [...(previewOf.get(r.stall_id) ?? []), messageInfo(r)]);
  return {
    totalKeys,
    stalled: stalls.map((s) => ({
      ...stallFields(s),
      messageCount: countOf.get(s.id)?.total ?? 0,
      waitingCount: countOf.get(s.id)?.waiting ?? 0,
      messages: previewOf.get(s.id) ?? [],
    })),
  };
}

/**
 * One page of an entry's messages in original order (every status), after `cursor` (the seq the previous
 * page's nextCursor named); nextCursor is null on the last page. Throws NotFoundError for an unknown entry.
 */
export async function stalledMessagePage(
  id: string,
  page: { cursor?: number; limit: number },
): Promise<{ items: StalledMessageInfo[]; nextCursor: string | null }> {
  const stallId = parseInput(stallIdSchema, id, "stall id");
  const { cursor, limit } = parseInput(pageSchema, page, "page");
  const { prisma, pool } = db();
  const exists = await prisma.stall.findUnique({ where: { id: stallId }, select: { id: true } });
  if (!exists) throw new NotFoundError("stall", stallId);
  const { rows } = await pool.query<MessageRecord>(
    `SELECT stall_id, seq, message_id, type, status::text AS status, error FROM stalled_messages
      WHERE stall_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    [stallId, cursor ?? 0, limit + 1],
  );
  const more = rows.length > limit;
  const items = (more ? rows.slice(0, limit) : rows).map(messageInfo);
  return { items, nextCursor: more ? String(items[items.length - 1]!.seq) : null };
}
