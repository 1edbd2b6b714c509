import { InvalidMessageError } from "./errors.js";
import { bodyBytes, isJsonType, Message, utf8 } from "./message.js";

/**
 * CloudEvents wire formats as pure functions (no I/O), shared by the HTTP and NATS drivers:
 * - binary mode: attributes as `ce-` headers (percent-encoded per the HTTP binding), datacontenttype as
 *   Content-Type, data as the body;
 * - structured mode: one JSON object (`application/cloudevents+json`), bytes as `data_base64`;
 * - batch mode: a JSON array of structured events (`application/cloudevents-batch+json`).
 * Decoders throw InvalidMessageError saying what is wrong; they never return a half-valid message.
 */

export const CE_HEADER_PREFIX = "ce-";
export const STRUCTURED_CONTENT_TYPE = "application/cloudevents+json";
export const BATCH_CONTENT_TYPE = "application/cloudevents-batch+json";

export function isStructured(contentType: string | undefined | null): boolean {
  return baseType(contentType) === STRUCTURED_CONTENT_TYPE;
}

export function isBatch(contentType: string | undefined | null): boolean {
  return baseType(contentType) === BATCH_CONTENT_TYPE;
}

function baseType(contentType: string | undefined | null): string {
  return (contentType ?? "").split(";", 1)[0]!.trim().toLowerCase();
}

/** Binary mode: header name → value (names lower-case) and the body bytes. */
export function toBinary(message: Message): { headers: Record<string, string>; body: Uint8Array } {
  const headers: Record<string, string> = {
    "ce-specversion": message.specversion,
    "ce-id": encodeHeaderValue(message.id),
    "ce-source": encodeHeaderValue(message.source),
    "ce-type": encodeHeaderValue(message.type),
    "ce-time": message.time,
  };
  if (message.subject !== undefined) headers["ce-subject"] = encodeHeaderValue(message.subject);
  if (message.dataschema !== undefined) headers["ce-dataschema"] = encodeHeaderValue(message.dataschema);
  if (message.datacontenttype !== undefined) headers["content-type"] = message.datacontenttype;
  for (const [name, value] of Object.entries(message.extensions)) {
    headers[`${CE_HEADER_PREFIX}${name}`] = encodeHeaderValue(String(value));
  }
  return { headers, body: bodyBytes(message.body) };
}

/** True if the headers carry a binary-mode CloudEvent (they have ce-specversion). */
export function hasBinaryHeaders(get: (name: string) => string | undefined | null): boolean {
  return typeof get("ce-specversion") === "string";
}

/**
 * Decodes a binary-mode event. `headers` yields [name, value] pairs (any case). Extension values arrive
 * as strings (headers carry no types).
 */
export function fromBinary(headers: Iterable<[string, string]>, body: Uint8Array | undefined): Message {
  const attributes: Record<string, unknown> = {};
  for (const [rawName, value] of headers) {
    const name = rawName.toLowerCase();
    if (name === "content-type") attributes.datacontenttype = value;
    else if (name.startsWith(CE_HEADER_PREFIX) && name.length > CE_HEADER_PREFIX.length) {
      rejectProtoName(name.slice(CE_HEADER_PREFIX.length));
      attributes[name.slice(CE_HEADER_PREFIX.length)] = decodeHeaderValue(value);
    }
  }
  if (attributes.specversion === undefined) throw new InvalidMessageError("missing ce-specversion header");
  return Message.fromWire(attributes, body !== undefined && body.byteLength > 0 ? body : undefined);
}

/** Structured mode: the event as CloudEvents JSON text. JSON data is inserted as encoded, never re-serialised. */
export function toStructured(message: Message): string {
  const body = message.body;
  const head = JSON.stringify(message.attributes());
  if (body === undefined) return head;
  if (body instanceof Uint8Array) {
    return `${head.slice(0, -1)},"data_base64":${JSON.stringify(Buffer.from(body).toString("base64"))}}`;
  }
  const data = isJsonType(message.datacontenttype) ? body : JSON.stringify(body);
  return `${head.slice(0, -1)},"data":${data}}`;
}

/** Decodes one structured event from its JSON text or an already-parsed object. */
export function fromStructured(input: string | Uint8Array | unknown): Message {
  const value = typeof input === "string" || input instanceof Uint8Array ? parseJson(input) : input;
  return fromJsonObject(value);
}

export function toBatch(messages: readonly Message[]): string {
  return `[${messages.map(toStructured).join(",")}]`;
}

/** Decodes a batch (JSON array of structured events); the error names the index of a bad event. */
export function fromBatch(input: string | Uint8Array): Message[] {
  const value = parseJson(input);
  if (!Array.isArray(value)) throw new InvalidMessageError("a CloudEvents batch must be a JSON array");
  return value.map((item, index) => {
    try {
      return fromJsonObject(item);
    } catch (error) {
      throw new InvalidMessageError(`event ${index} of the batch: ${(error as Error).message}`, { cause: error });
    }
  });
}

function fromJsonObject(value: unknown): Message {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidMessageError("a structured CloudEvent must be a JSON object");
  }
  if (Object.hasOwn(value, "__proto__")) rejectProtoName("__proto__");
  const { data, data_base64: dataBase64, ...attributes } = value as Record<string, unknown>;
  if (attributes.specversion === undefined) throw new InvalidMessageError("missing specversion");
  if (data !== undefined && dataBase64 !== undefined) {
    throw new InvalidMessageError("an event has either data or data_base64, not both");
  }
  if (dataBase64 !== undefined) {
    if (typeof dataBase64 !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(dataBase64)) {
      throw new InvalidMessageError("data_base64 must be a base64 string");
    }
    const ctype = attributes.datacontenttype as string | undefined;
    return Message.fromWire(
      { ...attributes, datacontenttype: ctype ?? "application/octet-stream" },
      new Uint8Array(Buffer.from(dataBase64, "base64")),
    );
  }
  if (data === undefined) return Message.fromWire(attributes, undefined);
  const ctype = attributes.datacontenttype as string | undefined;
  if (typeof data === "string" && ctype !== undefined && !isJsonType(ctype)) return Message.fromWire(attributes, data);
  // JSON data (or no content type: the JSON format says data is then JSON).
  return Message.fromWire({ ...attributes, datacontenttype: ctype ?? "application/json" }, JSON.stringify(data));
}

/**
 * "__proto__" as an attribute name would be swallowed by the prototype setter when copied into a plain object
 * (silently dropped, or with an object value, inherited as fake extensions), so it is refused outright.
 */
function rejectProtoName(name: string): void {
  if (name === "__proto__") {
    throw new InvalidMessageError('attribute name "__proto__" is not allowed (CloudEvents names are lower-case letters and digits)');
  }
}

function parseJson(input: string | Uint8Array): unknown {
  try {
    return JSON.parse(typeof input === "string" ? input : utf8.decode(input));
  } catch (cause) {
    throw new InvalidMessageError("body is not valid JSON", { cause });
  }
}

/** Percent-encodes what the HTTP binding requires: space, double quote, percent, and anything outside printable ASCII. */
export function encodeHeaderValue(value: string): string {
  return /^[\x21\x23-\x24\x26-\x7e]*$/.test(value)
    ? value
    : Array.from(utf8.encode(value), (byte) =>
        byte > 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x25
          ? String.fromCharCode(byte)
          : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`,
      ).join("");
}

export function decodeHeaderValue(value: string): string {
  if (!value.includes("%")) return value;
  try {
    return decodeURIComponent(value);
  } catch (cause) {
    throw new InvalidMessageError(`header value ${JSON.stringify(value.slice(0, 60))} is not valid percent-encoding`, {
      cause,
    });
  }
}
