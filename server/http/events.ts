import { z } from "zod";
import { wire, type Message } from "@whisper/core";
import { storableProblems } from "@/server/history/storable";
import { decodeUtf8, jsonDepthExceeds, parseJsonText } from "./body";
import { httpDefaults } from "./defaults";
import { getConfig } from "../config";
import { AppError } from "../errors";
import { badRequest, problem, type FieldError } from "./problem";
import { repeatedHeaders } from "./stamp";

/**
 * The CloudEvents of POST /api/topics/{topic}/events, validated at the boundary before the core sees them.
 * Contract: decodeEvents() returns valid messages or throws a 4xx problem whose detail and `errors` name the
 * attribute (e.g. `body[2].time`, `header ce-id`):
 * - modes: batch (`application/cloudevents-batch+json`), structured (`application/cloudevents+json`), binary
 *   (`ce-*` headers, the body is the data); anything else is a 415;
 * - JSON is decoded strictly (invalid UTF-8, nesting deeper than httpDefaults.maxJsonDepth: 400);
 * - `time` is an RFC 3339 timestamp, `data_base64` canonical base64, a `ce-*` header appears once;
 * - nothing is answered "published" that history cannot hold: every event meets history's rule (one rule,
 *   server/history/storable.ts, applied by the recorder too: no NUL or unpaired surrogate in any attribute,
 *   extension or text data, id/type/orderingkey at most 1,024 bytes of UTF-8); a 400 names each offending field
 *   of every event of the request;
 * - each event's structured encoding is at most `maxEventBytes` (413), a batch at most
 *   httpDefaults.maxBatchEvents events (413).
 */

/** RFC 3339 date-time (section 5.6), with a real calendar date and time. */
export function isRfc3339(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/.exec(value);
  if (!match) return false;
  const [, y, mo, d, h, mi, s, , , oh, om] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    Number(h) <= 23 &&
    Number(mi) <= 59 &&
    Number(s) <= 60 &&
    (oh === undefined || (Number(oh) <= 23 && Number(om) <= 59))
  );
}

/** Canonical base64 (RFC 4648 section 4, padded): decoding then encoding gives the same text back. */
export function isStrictBase64(value: string): boolean {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(value) && value.length % 4 === 0 && Buffer.from(value, "base64").toString("base64") === value;
}

const RFC3339_MESSAGE = "must be an RFC 3339 timestamp such as 2026-01-31T12:00:00Z";

/** The envelope rules the core's decoder is lax about; the core checks the rest (names, extension types). */
const structuredEnvelope = z.looseObject({
  specversion: z.literal("1.0", { error: 'must be "1.0"' }),
  id: z.string({ error: "must be a string" }).min(1, "must not be empty"),
  source: z.string({ error: "must be a string" }).min(1, "must not be empty"),
  type: z.string({ error: "must be a string" }).min(1, "must not be empty"),
  time: z.string({ error: RFC3339_MESSAGE }).refine(isRfc3339, RFC3339_MESSAGE).optional(),
  data_base64: z
    .string({ error: "must be a base64 string" })
    .refine(isStrictBase64, "must be canonical base64 (RFC 4648: A-Z a-z 0-9 + /, padded with = to a multiple of 4)")
    .optional(),
});

function checkEnvelope(value: unknown, path: string): void {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw badRequest(`${path} must be a JSON object (a structured CloudEvent)`, [{ path, message: "must be a JSON object" }]);
  }
  const result = structuredEnvelope.safeParse(value);
  if (!result.success) {
    const errors: FieldError[] = result.error.issues.map((issue) => ({
      path: [path, ...issue.path.map(String)].join("."),
      message: issue.message,
    }));
    throw badRequest(errors.map((e) => `${e.path} ${e.message}`).join("; "), errors);
  }
}

/** Runs the core's decoder; its InvalidMessageError becomes a 400 naming `path`. */
function decoded<T>(path: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof AppError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw badRequest(`${path}: ${detail}`, [{ path, message: detail }]);
  }
}

/**
 * What is wrong with a decoded message's attributes and data: `time` not RFC 3339, anything history cannot
 * store (storableProblems). `pathOf` names an attribute ("data" for the data) as the request carried it.
 */
function attributeErrors(message: Message, pathOf: (name: string) => string): FieldError[] {
  const errors: FieldError[] = isRfc3339(message.time) ? [] : [{ path: pathOf("time"), message: RFC3339_MESSAGE }];
  for (const p of storableProblems(message)) errors.push({ path: pathOf(p.field), message: p.message });
  return errors;
}

/** Throws one 400 naming every field of `errors`, if any. */
function refuse(errors: FieldError[]): void {
  if (errors.length > 0) throw badRequest(errors.map((e) => `${e.path} ${e.message}`).join("; "), errors);
}

export interface DecodeOptions {
  /** Largest structured encoding of one event (413 above). */
  maxEventBytes: number;
  /** Header names the HTTP server saw more than once (the request stamp, server/http/stamp.ts). */
  repeatedHeaders: readonly string[];
}

/**
 * Decodes and validates the CloudEvent(s) of a request whose body was read within its limit. Options default
 * to the server's: WHISPER_MAX_EVENT_BYTES and the request stamp's repeated headers.
 */
export function decodeEvents(
  request: Request,
  body: Uint8Array,
  options: DecodeOptions = { maxEventBytes: getConfig().maxEventBytes, repeatedHeaders: repeatedHeaders(request) },
): Message[] {
  const contentType = request.headers.get("content-type");
  let messages: Message[];
  if (wire.isBatch(contentType)) {
    const value = parseJsonText(decodeUtf8(body));
    if (!Array.isArray(value)) throw badRequest("a CloudEvents batch must be a JSON array", [{ path: "body", message: "must be an array" }]);
    if (value.length === 0) throw badRequest("the batch is empty", [{ path: "body", message: "is empty" }]);
    if (value.length > httpDefaults.maxBatchEvents) {
      throw problem("too_large", `a batch holds at most ${httpDefaults.maxBatchEvents} events, got ${value.length}`);
    }
    const errors: FieldError[] = [];
    messages = value.map((item: unknown, i) => {
      const path = `body[${i}]`;
      checkEnvelope(item, path);
      const message = decoded(path, () => wire.fromStructured(item));
      errors.push(...attributeErrors(message, (name) => `${path}.${name}`));
      return message;
    });
    refuse(errors);
  } else if (wire.isStructured(contentType)) {
    const value = parseJsonText(decodeUtf8(body));
    checkEnvelope(value, "body");
    const message = decoded("body", () => wire.fromStructured(value));
    refuse(attributeErrors(message, (name) => `body.${name}`));
    messages = [message];
  } else if (wire.hasBinaryHeaders((name) => request.headers.get(name))) {
    messages = [decodeBinary(request, body, options.repeatedHeaders)];
  } else {
    throw problem("not_a_cloudevent",
      "expected a CloudEvent: binary mode (ce-specversion, ce-id, ce-source, ce-type headers), " +
        "Content-Type application/cloudevents+json (structured) or application/cloudevents-batch+json (batch)",
    );
  }
  messages.forEach((message, i) => {
    const size = Buffer.byteLength(wire.toStructured(message));
    if (size > options.maxEventBytes) {
      const which = messages.length === 1 ? "the event" : `event ${i} of the batch`;
      throw problem("too_large", `${which} is ${size} bytes encoded; the limit is ${options.maxEventBytes} bytes`);
    }
  });
  return messages;
}

function decodeBinary(request: Request, body: Uint8Array, repeated: readonly string[]): Message {
  const twice = repeated.find((name) => name.startsWith(wire.CE_HEADER_PREFIX) || name === "content-type");
  if (twice !== undefined) {
    throw badRequest(`header ${twice} is given more than once`, [{ path: `header ${twice}`, message: "given more than once" }]);
  }
  const time = request.headers.get("ce-time");
  if (time !== null && !isRfc3339(time)) {
    throw badRequest(`header ce-time ${RFC3339_MESSAGE}`, [{ path: "header ce-time", message: RFC3339_MESSAGE }]);
  }
  const contentType = request.headers.get("content-type") ?? undefined;
  const base = (contentType ?? "").split(";", 1)[0]!.trim().toLowerCase();
  const json = base === "application/json" || base === "text/json" || base.endsWith("+json");
  if (body.byteLength > 0 && (json || base.startsWith("text/") || base.endsWith("+xml") || base === "application/xml")) {
    const text = decodeUtf8(body, "data");
    if (json && jsonDepthExceeds(text, httpDefaults.maxJsonDepth)) {
      throw badRequest(`data nests arrays/objects deeper than ${httpDefaults.maxJsonDepth} levels`, [
        { path: "data", message: `nested deeper than ${httpDefaults.maxJsonDepth} levels` },
      ]);
    }
  }
  const message = decoded("headers", () => wire.fromBinary(request.headers.entries(), body.byteLength > 0 ? body : undefined));
  refuse(attributeErrors(message, (name) => (name === "data" ? "body" : name === "datacontenttype" ? "header content-type" : `header ce-${name}`)));
  return message;
}
