import { z } from "zod";
import { db } from "@/server/db";
import { storableIdSchema } from "@/server/history/storable";
import { InvalidInputError, parseInput } from "./errors";
import type { BrowseFilter, MessageDetail, MessageSummary } from "./types";

/** Query-string friendly: an empty string means "not given". */
const optionalText = (max: number) =>
  z.preprocess((v) => (v === "" || v === null ? undefined : v), z.string().min(1).max(max).optional());
const optionalTime = z.preprocess(
  (v) => (v === "" || v === null ? undefined : v),
  z.iso.datetime({ offset: true }).optional(),
);

export const browseFilterSchema = z.strictObject({
  topic: optionalText(200),
  type: optionalText(500),
  source: optionalText(2000),
  subject: optionalText(2000),
  orderingKey: optionalText(500),
  from: optionalTime,
  to: optionalTime,
  q: optionalText(500),
  cursor: optionalText(1000),
  limit: z.preprocess((v) => (v === "" || v === null ? undefined : v), z.coerce.number().int().min(1).max(200).optional()),
});

const SUMMARY_COLUMNS = "id, topic, type, source, subject, time, ordering_key, size, received_at, replay_of";

type SummaryRecord = {
  id: string;
  topic: string;
  type: string;
  source: string;
  subject: string | null;
  time: string;
  ordering_key: string | null;
  size: number;
  received_at: Date;
  replay_of: string | null;
};

/**
 * One page of recorded messages, newest first in arrival order (ingest_seq descending: per topic the order
 * the broker delivered them, never an accident of equal timestamps), filtered by every given field:
 * topic/type/source/subject/orderingKey exactly, from ≤ received_at < to, and q as a case-insensitive
 * substring of JSON or text data.
 *
 * Keyset pagination: nextCursor encodes the last row's ingest_seq; the next page is the rows strictly
 * before it, so rows recorded meanwhile (newer, hence before page one) never shift or repeat later pages.
 * nextCursor is null on the last page. Throws InvalidInputError for a bad filter or cursor.
 */
export async function browseMessages(filter: BrowseFilter): Promise<{ items: MessageSummary[]; nextCursor: string | null }> {
  const f = parseInput(browseFilterSchema, filter ?? {}, "message filter");
  const limit = f.limit ?? 50;
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (f.topic !== undefined) where.push(`topic = ${param(f.topic)}`);
  if (f.type !== undefined) where.push(`type = ${param(f.type)}`);
  if (f.source !== undefined) where.push(`source = ${param(f.source)}`);
  if (f.subject !== undefined) where.push(`subject = ${param(f.subject)}`);
  if (f.orderingKey !== undefined) where.push(`ordering_key = ${param(f.orderingKey)}`);
  if (f.from !== undefined) where.push(`received_at >= ${param(new Date(f.from))}`);
  if (f.to !== undefined) where.push(`received_at < ${param(new Date(f.to))}`);
  if (f.q !== undefined) where.push(`data_text ILIKE ${param(`%${f.q.replace(/[\\%_]/g, "\\$&")}%`)}`);
  if (f.cursor !== undefined) where.push(`ingest_seq < ${param(decodeCursor(f.cursor))}`);
  const sql =
    `SELECT ${SUMMARY_COLUMNS}, ingest_seq FROM messages` +
    (where.length > 0 ? ` WHERE ${where.join(" AND ")}` : "") +
    ` ORDER BY ingest_seq DESC LIMIT ${param(limit + 1)}`;
  const { rows } = await db().pool.query<SummaryRecord & { ingest_seq: string }>(sql, params);
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  return {
    items: page.map(summary),
    nextCursor: more && last ? encodeCursor(last.ingest_seq) : null,
  };
}

type DetailRecord = SummaryRecord & {
  specversion: string;
  datacontenttype: string | null;
  dataschema: string | null;
  extensions: Record<string, string | number | boolean>;
  data: Buffer | null;
  data_text: string | null;
  sequence: string | null;
};

/** Everything recorded about message `id`, or null if it was never recorded. */
export async function getMessage(id: string): Promise<MessageDetail | null> {
  const messageId = parseInput(storableIdSchema, id, "message id");
  const { rows } = await db().pool.query<DetailRecord>(
    `SELECT ${SUMMARY_COLUMNS}, specversion, datacontenttype, dataschema, extensions, data, data_text, sequence
       FROM messages WHERE id = $1`,
    [messageId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    ...summary(r),
    specversion: "1.0",
    datacontenttype: r.datacontenttype,
    dataschema: r.dataschema,
    extensions: r.extensions,
    sequence: r.sequence,
    data: dataOf(r.datacontenttype, r.data, r.data_text),
  };
}

function summary(r: SummaryRecord): MessageSummary {
  return {
    id: r.id,
    topic: r.topic,
    type: r.type,
    source: r.source,
    subject: r.subject,
    time: r.time,
    orderingKey: r.ordering_key,
    size: r.size,
    receivedAt: r.received_at.toISOString(),
    replayOf: r.replay_of,
  };
}

function dataOf(ctype: string | null, data: Buffer | null, text: string | null): MessageDetail["data"] {
  if (text !== null) return { encoding: isJson(ctype) ? "json" : "text", value: text };
  if (data !== null) return { encoding: "base64", value: data.toString("base64") };
  return { encoding: "none", value: "" };
}

function isJson(ctype: string | null): boolean {
  if (!ctype) return false;
  const base = ctype.split(";", 1)[0]!.trim().toLowerCase();
  return base === "application/json" || base === "text/json" || base.endsWith("+json");
}

/** Opaque cursor: base64url of "s" and the last row's ingest_seq (decimal). */
export function encodeCursor(ingestSeq: string | bigint): string {
  return Buffer.from(`s${ingestSeq}`).toString("base64url");
}

/** The ingest_seq (decimal string) of a cursor from encodeCursor; InvalidInputError for anything else. */
export function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const match = /^s([1-9]\d{0,18})$/.exec(text);
  if (match && BigInt(match[1]!) <= 9223372036854775807n) return match[1]!;
  throw new InvalidInputError("invalid message filter: cursor is not a cursor returned by this API", [
    { path: "cursor", message: "not a cursor returned by this API" },
  ]);
}
