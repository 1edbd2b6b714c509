import { Message, newId } from "../../message.js";
import { fromBinary, fromStructured, isStructured } from "../../wire.js";

/**
 * Decoding received NATS messages: no client-library import here, so the same code runs on the connection's
 * thread and, for deliveries handed over undecoded (encoded.ts), in a worker thread.
 */

/** The CloudEvents type given to messages that a non-whisper client published as plain bytes. */
export const PLAIN_MESSAGE_TYPE = "nats.message";

/** The headers as decode() reads them: the client's MsgHdrs, or a HeaderBlock (headers.ts). */
export interface Headers extends Iterable<[string, string[]]> {
  has(key: string): boolean;
  get(key: string): string;
}

/** What decode() reads of a received message. */
export interface Received {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers?: Headers | undefined;
}

/** Where a received message came from, for the attributes of plain (non-CloudEvents) messages. */
export interface Origin {
  /** `nats://host:port`: the source of plain messages. */
  readonly server: string;
  /** Stream and sequence of a JetStream message; the fallback id of a plain message is `<stream>:<seq>`. */
  readonly stream?: string;
  readonly sequence?: number;
}

/**
 * Decodes a received NATS message. Contract:
 * - `ce-specversion` header: binary mode (wire.fromBinary);
 * - content-type `application/cloudevents+json`, or a body that is a JSON object with `specversion`:
 *   structured mode (wire.fromStructured);
 * - anything else is a plain message: id from `Nats-Msg-Id`, else `<stream>:<seq>`, else a new nuid; type
 *   `nats.message`; source the server URL; subject the NATS subject; data the body (decoded by its
 *   content-type header when it has one, else bytes);
 * - a message that claims to be a CloudEvent but is invalid is delivered as a plain message with the
 *   extension `decodeerror` saying why, so nothing on the subject becomes invisible.
 */
export function decode(msg: Received, origin: Origin, headerError?: string): Message {
  if (headerError !== undefined) return plain({ subject: msg.subject, data: msg.data }, origin, headerError);
  const headers = msg.headers;
  try {
    if (headers?.has("ce-specversion")) return fromBinary(pairs(headers), msg.data);
    const ctype = headers?.get("content-type") || undefined;
    if (isStructured(ctype)) return fromStructured(msg.data);
    if (ctype === undefined && looksStructured(msg.data)) {
      try {
        return fromStructured(msg.data);
      } catch {
        // Not a CloudEvent after all: a plain JSON payload.
      }
    }
  } catch (error) {
    return plain(msg, origin, (error as Error).message);
  }
  return plain(msg, origin, undefined);
}

function pairs(headers: Headers): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [key, values] of headers) if (values.length > 0) out.push([key, values[0]!]);
  return out;
}

/** A JSON object that mentions specversion: worth a structured-mode parse. */
function looksStructured(data: Uint8Array): boolean {
  let i = 0;
  while (i < data.length && (data[i] === 0x20 || data[i] === 0x0a || data[i] === 0x0d || data[i] === 0x09)) i++;
  return data[i] === 0x7b && Buffer.from(data.buffer, data.byteOffset, data.byteLength).includes("specversion");
}

function plain(msg: Received, origin: Origin, decodeError: string | undefined): Message {
  const headers = msg.headers;
  const id =
    headers?.get("Nats-Msg-Id") ||
    (origin.stream !== undefined && origin.sequence !== undefined ? `${origin.stream}:${origin.sequence}` : newId());
  const attributes: Record<string, unknown> = {
    id,
    source: origin.server,
    type: PLAIN_MESSAGE_TYPE,
    subject: msg.subject,
  };
  if (decodeError !== undefined) attributes.decodeerror = decodeError.slice(0, 500);
  const ctype = headers?.get("content-type") || undefined;
  const body = msg.data.byteLength > 0 ? msg.data : undefined;
  if (ctype !== undefined && decodeError === undefined) {
    try {
      return Message.fromWire({ ...attributes, datacontenttype: ctype }, body);
    } catch {
      // The content type does not fit the body (e.g. JSON that does not parse): keep the bytes.
    }
  }
  return Message.fromWire(
    { ...attributes, datacontenttype: body === undefined ? undefined : "application/octet-stream" },
    body,
  );
}
