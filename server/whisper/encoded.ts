import { decode } from "./drivers/nats/decode.js";
import { HeaderBlock } from "./drivers/nats/headers.js";
import { Message, type ExtensionValue } from "./message.js";

/**
 * A message as a subscription received it, not decoded yet (Subscription.encodedBatches()): plain strings and
 * bytes, so it can be posted to a worker thread (structured clone; `data`/`headers` may be transferred), and
 * decodeEncoded() turns it, on any thread, into exactly the Message the subscription would have delivered.
 * - "nats": a NATS or JetStream message as it came off the wire (the header block and the body, as views of
 *   the client's read buffer until copied); decoded by the NATS binding (drivers/nats/decode.ts);
 * - "message": drivers with no wire form of their own (the in-process bus, …) hand up the decoded message;
 *   after a structured clone it arrives as a plain object with the same fields.
 */
export type EncodedMessage = EncodedNatsMessage | EncodedDecodedMessage;

export interface EncodedNatsMessage {
  readonly format: "nats";
  readonly subject: string;
  /** The header block (`NATS/1.0\r\n…`), or null when the message has none. */
  readonly headers: Uint8Array | null;
  readonly data: Uint8Array;
  /** Where it came from, for the attributes of plain (non-CloudEvents) messages: see nats/decode.ts Origin. */
  readonly server: string;
  readonly stream?: string;
  readonly sequence?: number;
}

export interface EncodedDecodedMessage {
  readonly format: "message";
  readonly message: Message;
}

/** The Message an encoded delivery carries (pure: runs in a worker thread as well). Never throws for "nats". */
export function decodeEncoded(encoded: EncodedMessage): Message {
  if (encoded.format === "message") return asMessage(encoded.message);
  let headers: HeaderBlock | undefined;
  try {
    headers = encoded.headers === null ? undefined : new HeaderBlock(encoded.headers);
  } catch (error) {
    return decode({ subject: encoded.subject, data: encoded.data }, encoded, (error as Error).message);
  }
  return decode({ subject: encoded.subject, data: encoded.data, headers }, encoded);
}

/** A Message, or the plain object a structured clone made of one, as a Message again. */
function asMessage(value: Message): Message {
  if (value instanceof Message) return value;
  const v = value as unknown as Record<string, unknown>;
  return new Message({
    id: v.id as string,
    source: v.source as string,
    type: v.type as string,
    time: v.time as string,
    subject: v.subject as string | undefined,
    datacontenttype: v.datacontenttype as string | undefined,
    dataschema: v.dataschema as string | undefined,
    data: v.data,
    body: v.body as string | Uint8Array | undefined,
    extensions: Object.freeze({ ...(v.extensions as Record<string, ExtensionValue>) }),
  });
}

/** Bytes an encoded message holds (headers + data), for byte limits. */
export function encodedSize(encoded: EncodedMessage): number {
  if (encoded.format === "nats") return (encoded.headers?.byteLength ?? 0) + encoded.data.byteLength;
  const body = encoded.message.body;
  return body === undefined ? 0 : typeof body === "string" ? body.length : body.byteLength;
}
