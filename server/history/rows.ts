import { Message, type Body, type ExtensionValue } from "@whisper/core";
import type { LiveMessage } from "@/server/services/types";
import { isStorable, storableForm } from "./storable";

/** One `messages` row as the recorder writes it (column names in the comments). */
export interface MessageRow {
  id: string;
  topic: string;
  source: string;
  type: string;
  specversion: string;
  time: string;
  subject: string | null;
  datacontenttype: string | null;
  dataschema: string | null;
  extensions: Readonly<Record<string, ExtensionValue>>;
  /** data: the body when it is bytes (or text Postgres cannot hold). */
  data: Uint8Array | null;
  /** data_text: the body when it is JSON or text. */
  dataText: string | null;
  size: number;
  orderingKey: string | null;
  replayOf: string | null;
  receivedAt: Date;
  /** Decimal string (bigint column). */
  sequence: string | null;
  /** What was changed to make the message storable (storable.ts; also in the `recorderror` extension); empty when verbatim. */
  changes: readonly string[];
}

/** The `messages` columns in the order copyText() writes them. */
export const MESSAGE_COLUMNS = [
  "id",
  "topic",
  "source",
  "type",
  "specversion",
  "time",
  "subject",
  "datacontenttype",
  "dataschema",
  "extensions",
  "data",
  "data_text",
  "size",
  "ordering_key",
  "replay_of",
  "received_at",
  "sequence",
] as const;

/**
 * Splits a message body into the two storage columns. Text goes to data_text unless it contains NUL, which
 * Postgres text cannot store; then its UTF-8 bytes go to data. Exactly one side is non-null when there is
 * a body. `size` is the byte length of the body.
 */
export function splitBody(body: Body | undefined): { data: Uint8Array | null; dataText: string | null; size: number } {
  if (body === undefined) return { data: null, dataText: null, size: 0 };
  if (typeof body !== "string") return { data: body, dataText: null, size: body.byteLength };
  if (body.includes("\u0000")) {
    const bytes = Buffer.from(body, "utf8");
    return { data: bytes, dataText: null, size: bytes.byteLength };
  }
  return { data: null, dataText: body, size: Buffer.byteLength(body, "utf8") };
}

const NO_CHANGES: readonly string[] = Object.freeze([]);

/**
 * The row for `message` received from `topic`: the message verbatim when history can store it, else its
 * storable form (storable.ts: offending values escaped, `recorderror` saying so, `changes` listing it).
 */
export function messageRow(message: Message, topic: string, receivedAt: Date, sequence?: bigint | number | null): MessageRow {
  const form = isStorable(message) ? undefined : storableForm(message);
  const { data, dataText, size } = splitBody(form?.text ?? message.body);
  const extensions = form?.extensions ?? message.extensions;
  const { orderingkey, replayof } = extensions;
  return {
    id: form?.id ?? message.id,
    topic,
    source: form?.source ?? message.source,
    type: form?.type ?? message.type,
    specversion: message.specversion,
    time: form?.time ?? message.time,
    subject: (form ? form.subject : message.subject) ?? null,
    datacontenttype: (form ? form.datacontenttype : message.datacontenttype) ?? null,
    dataschema: (form ? form.dataschema : message.dataschema) ?? null,
    extensions,
    data,
    dataText,
    size,
    orderingKey: typeof orderingkey === "string" && orderingkey.length > 0 ? orderingkey : null,
    replayOf: typeof replayof === "string" ? replayof : null,
    receivedAt,
    sequence: sequence === undefined || sequence === null ? null : String(sequence),
    changes: form?.changes ?? NO_CHANGES,
  };
}

/** ISO text of a receivedAt; rows of one batch mostly share the millisecond, so the last one is kept. */
let lastIso = { ms: Number.NaN, text: "" };
function isoOf(date: Date): string {
  const ms = date.getTime();
  if (ms !== lastIso.ms) lastIso = { ms, text: date.toISOString() };
  return lastIso.text;
}

/** Live frames carry the whole data up to this many bytes (the browser applies data filters to it). */
export const LIVE_DATA_BYTES = 2048;
/** Characters of the data preview (as SQL's left(data_text, 160): code points, never half a surrogate pair). */
const PREVIEW_CODE_POINTS = 160;

/** The first PREVIEW_CODE_POINTS code points of `text`. */
export function previewOf(text: string): string {
  if (text.length <= PREVIEW_CODE_POINTS) return text;
  let units = 0;
  for (let points = 0; points < PREVIEW_CODE_POINTS && units < text.length; points++) {
    const code = text.charCodeAt(units);
    units += code >= 0xd800 && code <= 0xdbff && units + 1 < text.length ? 2 : 1;
  }
  return text.slice(0, units);
}

/** The live summary of a recorded row: its MessageSummary, plus the data itself when it is small. */
export function summaryOf(row: MessageRow): LiveMessage {
  const summary: LiveMessage = {
    id: row.id,
    topic: row.topic,
    type: row.type,
    source: row.source,
    subject: row.subject,
    time: row.time,
    orderingKey: row.orderingKey,
    size: row.size,
    receivedAt: isoOf(row.receivedAt),
    replayOf: row.replayOf,
    sequence: row.sequence,
    preview: row.dataText === null ? null : previewOf(row.dataText),
  };
  if (row.dataText !== null && row.size <= LIVE_DATA_BYTES) summary.dataText = row.dataText;
  return summary;
}

/**
 * Rebuilds a message from stored attributes and body columns. The body is exactly what was recorded, so
 * republishing it sends the same bytes. Throws InvalidMessageError if the stored attributes are invalid.
 */
export function storedMessage(attributes: Record<string, unknown>, data: Uint8Array | null, dataText: string | null): Message {
  const body: Body | undefined = dataText ?? (data === null ? undefined : new Uint8Array(data));
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attributes)) if (v !== null && v !== undefined) clean[k] = v;
  return Message.fromWire(clean, body);
}

// COPY text format: tab-separated, \N for NULL, backslash escapes for \ newline carriage-return tab.
const NEEDS_ESCAPE = /[\\\n\r\t]/;
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function copyField(value: string | null): string {
  if (value === null) return "\\N";
  return NEEDS_ESCAPE.test(value) ? value.replace(/[\\\n\r\t]/g, (c) => ESCAPES[c]!) : value;
}

/** Rows in Postgres COPY text format, columns as MESSAGE_COLUMNS. */
export function copyText(rows: readonly MessageRow[]): string {
  let out = "";
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    out +=
      `${copyField(r.id)}\t${copyField(r.topic)}\t${copyField(r.source)}\t${copyField(r.type)}\t${copyField(r.specversion)}\t` +
      `${copyField(r.time)}\t${copyField(r.subject)}\t${copyField(r.datacontenttype)}\t${copyField(r.dataschema)}\t` +
      `${copyField(JSON.stringify(r.extensions))}\t` +
      // bytea hex input `\x…`, its backslash escaped for COPY.
      `${r.data === null ? "\\N" : `\\\\x${Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength).toString("hex")}`}\t` +
      `${copyField(r.dataText)}\t${r.size}\t${copyField(r.orderingKey)}\t${copyField(r.replayOf)}\t` +
      `${isoOf(r.receivedAt)}\t${r.sequence ?? "\\N"}\n`;
  }
  return out;
}
