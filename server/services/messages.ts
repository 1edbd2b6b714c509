import { z } from "zod";
import { db } from "@/server/db";
import { storableIdSchema } from "@/server/history/storable";
import { browseWindow, PREVIEW_CHARS, StartNotFoundError, type BrowseRow } from "@/server/history/browse";
import { FilterAst, filterInput, sequenceText } from "@/server/contract/filter-schema";
import type { FilterTerm } from "@/server/contract/filter";
import { InvalidInputError, NotFoundError, parseInput } from "./errors";
import type { BrowseFilter, MessageDetail, MessagePage, MessageSummary } from "./types";

/** Query-string friendly: an empty string means "not given". */
const blank = (v: unknown) => (v === "" || v === null ? undefined : v);
const optionalText = (max: number) => z.preprocess(blank, z.string().min(1).max(max).optional());
const optionalTime = z.preprocess(blank, z.iso.datetime({ offset: true }).optional());

export const browseFilterSchema = z
  .strictObject({
    topic: optionalText(200),
    /** The filter language (server/contract/filter.ts): its text, or a syntax tree (checked in browseMessages). */
    filter: z.preprocess(blank, z.union([z.string(), z.looseObject({})]).optional()),
    type: optionalText(500),
    source: optionalText(2000),
    subject: optionalText(2000),
    orderingKey: optionalText(500),
    from: optionalTime,
    to: optionalTime,
    q: optionalText(500),
    cursor: optionalText(1000),
    after: optionalText(1000),
    atTime: optionalTime,
    atSequence: z.preprocess(blank, sequenceText.optional()),
    atId: z.preprocess(blank, storableIdSchema.optional()),
    limit: z.preprocess(blank, z.coerce.number().int().min(1).max(200).optional()),
  })
  .refine((f) => [f.cursor, f.after, f.atTime, f.atSequence, f.atId].filter((v) => v !== undefined).length <= 1, {
    message: "give at most one of cursor, after, atTime, atSequence and atId",
    path: ["cursor"],
  })
  .refine((f) => f.atSequence === undefined || f.topic !== undefined, { message: "atSequence needs a topic", path: ["atSequence"] });

/**
 * One page of recorded messages, newest first in arrival order (ingest_seq descending: per topic the order the
 * broker delivered them, never an accident of equal timestamps), matching every given condition: `filter` (the
 * filter language), the older single-field parameters (type/source/subject/orderingKey, exact or `prefix*`; q as
 * text in the data, which the filter language covers too), from ≤ received_at < to.
 *
 * Keyset pagination: nextCursor encodes the last row looked at; pass it back as `cursor` (or, on a page asked
 * with `after`, as `after`) for the next page; null on the last page. A page may hold fewer than `limit` rows
 * and still have a nextCursor: the filter checks fields row by row and the page stopped after a bounded scan
 * (`searchedTo`: how far back it looked; server/history/browse.ts). `after` gives the rows recorded after a
 * view (the page just above it), `newerCursor` is the cursor to ask that with. `atTime` / `atSequence` /
 * `atId` start the list at a time, a broker sequence or a message. Throws InvalidInputError for a bad filter,
 * cursor or combination, NotFoundError for an atId not in history.
 */
export async function browseMessages(filter: BrowseFilter): Promise<MessagePage> {
  const f = parseInput(browseFilterSchema, filter ?? {}, "message filter");
  const parsed =
    f.filter === undefined ? undefined : typeof f.filter === "string" ? parseInput(filterInput, f.filter, "filter") : parseInput(FilterAst, f.filter, "filter");
  const terms = [...(parsed?.terms ?? []), ...singleFieldTerms(f)];
  try {
    const result = await browseWindow(db().pool, {
      topic: f.topic,
      filter: { terms },
      from: f.from === undefined ? undefined : new Date(f.from),
      to: f.to === undefined ? undefined : new Date(f.to),
      before: f.cursor === undefined ? undefined : BigInt(decodeCursor(f.cursor)),
      after: f.after === undefined ? undefined : BigInt(decodeCursor(f.after, "after")),
      atTime: f.atTime === undefined ? undefined : new Date(f.atTime),
      atSequence: f.atSequence,
      atId: f.atId,
      limit: f.limit ?? 50,
    });
    return {
      items: result.rows.map(summary),
      nextCursor: result.next === null ? null : encodeCursor(result.next),
      newerCursor: result.top === null ? null : encodeCursor(result.top),
      searchedTo: result.searchedTo?.toISOString() ?? null,
    };
  } catch (error) {
    if (error instanceof StartNotFoundError) throw new NotFoundError("message", f.atId ?? "");
    throw error;
  }
}

/** The single-field parameters as filter terms: a trailing `*` is a prefix, as in the filter language. */
function singleFieldTerms(f: { type?: string; source?: string; subject?: string; orderingKey?: string; q?: string }): FilterTerm[] {
  const terms: FilterTerm[] = [];
  const fields = [["type", f.type], ["source", f.source], ["subject", f.subject], ["key", f.orderingKey]] as const;
  for (const [field, value] of fields) {
    if (value === undefined) continue;
    const prefix = value.length > 1 && value.endsWith("*");
    terms.push({ kind: "attribute", field, op: "=", value: prefix ? value.slice(0, -1) : value, prefix });
  }
  if (f.q !== undefined) terms.push({ kind: "text", value: f.q });
  return terms;
}

type DetailRecord = Omit<BrowseRow, "ingest_seq"> & {
  specversion: string;
  datacontenttype: string | null;
  dataschema: string | null;
  extensions: Record<string, string | number | boolean>;
  data: Buffer | null;
  data_text: string | null;
};

/** Everything recorded about message `id`, or null if it was never recorded. */
export async function getMessage(id: string): Promise<MessageDetail | null> {
  const messageId = parseInput(storableIdSchema, id, "message id");
  const { rows } = await db().pool.query<DetailRecord>(
    `SELECT id, topic, type, source, subject, time, ordering_key, size, received_at, replay_of, sequence::text AS sequence,
            left(data_text, ${PREVIEW_CHARS}) AS preview, specversion, datacontenttype, dataschema, extensions, data, data_text
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
    data: dataOf(r.datacontenttype, r.data, r.data_text),
  };
}

function summary(r: Omit<BrowseRow, "ingest_seq">): MessageSummary {
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
    sequence: r.sequence,
    preview: r.preview,
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

/** The ingest_seq (decimal string) of a cursor from encodeCursor; InvalidInputError (naming `field`) for anything else. */
export function decodeCursor(cursor: string, field = "cursor"): string {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const match = /^s([1-9]\d{0,18})$/.exec(text);
  if (match && BigInt(match[1]!) <= 9223372036854775807n) return match[1]!;
  throw new InvalidInputError(`invalid message filter: ${field} is not a cursor returned by this API`, [
    { path: field, message: "not a cursor returned by this API" },
  ]);
}
