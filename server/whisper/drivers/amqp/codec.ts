import { InvalidMessageError } from "../../errors.js";
import { bodyBytes, Message, newId } from "../../message.js";
import { fromStructured, isStructured } from "../../wire.js";

/**
 * The CloudEvents AMQP binding on AMQP 0-9-1 messages (pure functions, no I/O). Binary mode: every attribute
 * but datacontenttype as the application property (0-9-1: header) `cloudEvents:<name>`, written as its canonical
 * string; datacontenttype as the `content-type` property; data as the body. On receipt both prefixes of the
 * binding (`cloudEvents:` and the JMS-friendly `cloudEvents_`) are read, and native values (numbers, booleans,
 * timestamps) as well as strings. A message with content-type `application/cloudevents+json` and no
 * `cloudEvents:specversion` is a structured event.
 */
export const PROPERTY_PREFIX = "cloudEvents:";
const PREFIXES = [PROPERTY_PREFIX, "cloudEvents_"];

/** The CloudEvents type given to messages a non-CloudEvents client published. */
export const PLAIN_MESSAGE_TYPE = "amqp.message";

/** What a message carries over AMQP 0-9-1: its body and the basic properties this binding sets. */
export interface AmqpWire {
  readonly body: Buffer;
  readonly headers: Record<string, unknown>;
  readonly contentType?: string;
  readonly messageId?: string;
}

export function encodeMessage(message: Message): AmqpWire {
  const headers: Record<string, unknown> = {
    "cloudEvents:specversion": message.specversion,
    "cloudEvents:id": message.id,
    "cloudEvents:source": message.source,
    "cloudEvents:type": message.type,
    "cloudEvents:time": message.time,
  };
  if (message.subject !== undefined) headers["cloudEvents:subject"] = message.subject;
  if (message.dataschema !== undefined) headers["cloudEvents:dataschema"] = message.dataschema;
  for (const [name, value] of Object.entries(message.extensions)) headers[`${PROPERTY_PREFIX}${name}`] = String(value);
  const bytes = bodyBytes(message.body);
  return {
    body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    headers,
    contentType: message.datacontenttype,
    messageId: message.id,
  };
}

/** Where a message came from, for the attributes of plain messages. */
export interface AmqpOrigin {
  /** `amqp://host:port/<exchange>`: the source of plain messages. */
  readonly source: string;
}

/**
 * Decodes a received message. Contract: `cloudEvents:specversion` (either prefix) → binary mode; a structured
 * content-type → the JSON event in the body; anything else is a plain message (id = the message-id property or
 * a new one, type `amqp.message`, data the body by its content-type, else bytes). A message that claims to be a
 * CloudEvent but is invalid is delivered as a plain message with the extension `decodeerror` saying why.
 */
export function decodeMessage(wire: AmqpWire, origin: AmqpOrigin): Message {
  const body = wire.body.byteLength > 0 ? wire.body : undefined;
  try {
    const attributes: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(wire.headers)) {
      const prefix = PREFIXES.find((p) => name.startsWith(p) && name.length > p.length);
      if (prefix === undefined) continue;
      const attribute = name.slice(prefix.length);
      if (attribute === "__proto__") throw new InvalidMessageError('attribute name "__proto__" is not allowed');
      attributes[attribute] = nativeValue(attribute, value);
    }
    if (attributes.specversion !== undefined) {
      if (wire.contentType !== undefined) attributes.datacontenttype = wire.contentType;
      return Message.fromWire(attributes, body);
    }
    if (isStructured(wire.contentType)) return fromStructured(new Uint8Array(wire.body));
  } catch (error) {
    return plain(wire, origin, (error as Error).message);
  }
  return plain(wire, origin, undefined);
}

/**
 * A property value as an attribute value: AMQP timestamps (amqplib gives `{ "!": "timestamp", value: seconds }`)
 * and Dates as RFC 3339 text, byte arrays as text, strings, numbers and booleans as they are.
 */
function nativeValue(attribute: string, value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  const typed = value as { "!"?: unknown; value?: unknown } | null;
  if (typeof typed === "object" && typed !== null && typed["!"] === "timestamp" && typeof typed.value === "number") {
    return new Date(typed.value * 1000).toISOString();
  }
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  throw new InvalidMessageError(`application property ${attribute} holds a ${typeof value}, not a CloudEvents value`);
}

function plain(wire: AmqpWire, origin: AmqpOrigin, decodeError: string | undefined): Message {
  const attributes: Record<string, unknown> = {
    id: wire.messageId || newId(),
    source: origin.source,
    type: PLAIN_MESSAGE_TYPE,
  };
  if (decodeError !== undefined) attributes.decodeerror = decodeError.slice(0, 500);
  const body = wire.body.byteLength > 0 ? wire.body : undefined;
  if (wire.contentType !== undefined && decodeError === undefined) {
    try {
      return Message.fromWire({ ...attributes, datacontenttype: wire.contentType }, body);
    } catch {
      // The content type does not fit the body: keep the bytes.
    }
  }
  return Message.fromWire({ ...attributes, datacontenttype: body === undefined ? undefined : "application/octet-stream" }, body);
}
