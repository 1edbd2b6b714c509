import { InvalidMessageError } from "../../errors.js";
import { bodyBytes, Message } from "../../message.js";
import { fromStructured, isStructured } from "../../wire.js";

/**
 * CloudEvents as Redis stream entry fields (binary mode, after the Kafka binding's header names, as Redis has
 * no binding of its own): every attribute and extension as the field `ce_<name>` (its text, unescaped: entry
 * fields are binary-safe), datacontenttype as `content-type`, the data as the field `data` (raw bytes; absent
 * when there is none). An entry without `ce_specversion` whose content-type is `application/cloudevents+json`
 * is a structured event in `data`. Pure functions, no I/O.
 */
export const FIELD_PREFIX = "ce_";
export const DATA_FIELD = "data";
export const CONTENT_TYPE_FIELD = "content-type";

/** The CloudEvents type given to entries that a non-whisper client added without CloudEvents fields. */
export const PLAIN_ENTRY_TYPE = "redis.entry";

/** The XADD field/value list of a message (field names are strings, values strings or the data bytes). */
export function encodeEntry(message: Message): Array<string | Buffer> {
  const fields: Array<string | Buffer> = [
    "ce_specversion",
    message.specversion,
    "ce_id",
    message.id,
    "ce_source",
    message.source,
    "ce_type",
    message.type,
    "ce_time",
    message.time,
  ];
  if (message.subject !== undefined) fields.push("ce_subject", message.subject);
  if (message.dataschema !== undefined) fields.push("ce_dataschema", message.dataschema);
  for (const [name, value] of Object.entries(message.extensions)) fields.push(`${FIELD_PREFIX}${name}`, String(value));
  if (message.datacontenttype !== undefined) fields.push(CONTENT_TYPE_FIELD, message.datacontenttype);
  if (message.body !== undefined) {
    const bytes = bodyBytes(message.body);
    fields.push(DATA_FIELD, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }
  return fields;
}

/** Where an entry came from, for the attributes of plain (non-CloudEvents) entries. */
export interface EntryOrigin {
  /** `redis://host:port/<stream>`: the source of plain entries. */
  readonly source: string;
  readonly stream: string;
  readonly entryId: string;
}

/**
 * Decodes an entry's flat field/value list. Contract: `ce_specversion` → binary mode; no CloudEvents fields and
 * a structured content-type → the structured event in `data`; anything else is a plain entry (id
 * `<stream>:<entry id>`, type `redis.entry`, the fields as a JSON object as data). An entry that claims to be a
 * CloudEvent but is invalid is delivered as a plain entry with the extension `decodeerror` saying why, so
 * nothing on the stream becomes invisible.
 */
export function decodeEntry(fields: readonly Buffer[], origin: EntryOrigin): Message {
  const attributes: Record<string, unknown> = {};
  let data: Buffer | undefined;
  let ctype: string | undefined;
  let binary = false;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString("utf8");
    const value = fields[i + 1]!;
    if (name === DATA_FIELD) data = value;
    else if (name === CONTENT_TYPE_FIELD) ctype = value.toString("utf8");
    else if (name.startsWith(FIELD_PREFIX) && name.length > FIELD_PREFIX.length) {
      const attribute = name.slice(FIELD_PREFIX.length);
      if (attribute === "__proto__") return plain(fields, origin, 'attribute name "__proto__" is not allowed');
      attributes[attribute] = value.toString("utf8");
      if (attribute === "specversion") binary = true;
    }
  }
  try {
    if (binary) {
      if (ctype !== undefined) attributes.datacontenttype = ctype;
      return Message.fromWire(attributes, data !== undefined && data.byteLength > 0 ? data : undefined);
    }
    if (isStructured(ctype)) {
      if (data === undefined) throw new InvalidMessageError("a structured entry has no data field");
      return fromStructured(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  } catch (error) {
    return plain(fields, origin, (error as Error).message);
  }
  return plain(fields, origin, undefined);
}

function plain(fields: readonly Buffer[], origin: EntryOrigin, decodeError: string | undefined): Message {
  const entry: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString("utf8");
    if (name !== "__proto__") entry[name] = fields[i + 1]!.toString("utf8");
  }
  const attributes: Record<string, unknown> = {
    id: `${origin.stream}:${origin.entryId}`,
    source: origin.source,
    type: PLAIN_ENTRY_TYPE,
    datacontenttype: "application/json",
  };
  if (decodeError !== undefined) attributes.decodeerror = decodeError.slice(0, 500);
  return Message.fromWire(attributes, JSON.stringify(entry));
}

const SEQUENCE_BITS = 20n;
const MAX_SEQUENCE_PART = (1n << SEQUENCE_BITS) - 1n;

/**
 * A stream entry id `<ms>-<seq>` as one number that orders as the ids do: ms × 2^20 + seq (fits a signed 64-bit
 * integer for ids up to the year 2248). Undefined for an id whose seq part is 2^20 or more (only explicit ids
 * get there; an auto-generated id would need a million entries in one millisecond).
 */
export function entrySequence(entryId: string): bigint | undefined {
  const dash = entryId.indexOf("-");
  if (dash < 0) return undefined;
  const ms = BigInt(entryId.slice(0, dash));
  const seq = BigInt(entryId.slice(dash + 1));
  if (seq > MAX_SEQUENCE_PART) return undefined;
  return (ms << SEQUENCE_BITS) | seq;
}

/** The entry id of a sequence from entrySequence() (for startAt). */
export function sequenceEntryId(sequence: bigint | number): string {
  const n = BigInt(sequence);
  return `${n >> SEQUENCE_BITS}-${n & MAX_SEQUENCE_PART}`;
}
