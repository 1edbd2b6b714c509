import { MsgHdrsImpl, type Match, type Msg, type MsgHdrs } from "@nats-io/transport-node";
import { InvalidMessageError, MessageTooLargeError } from "../../errors.js";
import { Message, newId } from "../../message.js";
import { encodeHeaderValue, fromBinary, fromStructured, isStructured, toBinary } from "../../wire.js";
import type { PooledConnection } from "./pool.js";

/** The CloudEvents type given to messages that a non-whisper client published as plain bytes. */
export const PLAIN_MESSAGE_TYPE = "nats.message";

/** One message encoded for NATS in binary content mode: `ce-*` headers plus the data as the body. */
export interface Encoded {
  readonly message: Message;
  readonly headers: MsgHdrs;
  readonly body: Uint8Array;
  /** Exact bytes the server counts against max_payload (headers block + body). */
  readonly size: number;
}

/**
 * A NATS header block encoded once, up front. Publishing only needs encode(); the other MsgHdrs methods work
 * on a decoded copy made on first use, and once that copy exists encode() follows it (so a client that adds
 * a header before sending still sends it).
 */
class EncodedHeaders implements MsgHdrs {
  readonly #bytes: Uint8Array;
  #decoded: MsgHdrsImpl | undefined;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  #headers(): MsgHdrsImpl {
    return (this.#decoded ??= MsgHdrsImpl.decode(this.#bytes));
  }

  encode(): Uint8Array {
    return this.#decoded === undefined ? this.#bytes : this.#decoded.encode();
  }
  get hasError(): boolean {
    return this.#headers().hasError;
  }
  get status(): string {
    return this.#headers().status;
  }
  get code(): number {
    return this.#headers().code;
  }
  get description(): string {
    return this.#headers().description;
  }
  get(k: string, match?: Match): string {
    return this.#headers().get(k, match as "exact" | undefined);
  }
  set(k: string, v: string, match?: Match): void {
    this.#headers().set(k, v, match);
  }
  append(k: string, v: string, match?: Match): void {
    this.#headers().append(k, v, match);
  }
  has(k: string, match?: Match): boolean {
    return this.#headers().has(k, match);
  }
  keys(): string[] {
    return this.#headers().keys();
  }
  values(k: string, match?: Match): string[] {
    return this.#headers().values(k, match);
  }
  delete(k: string, match?: Match): void {
    this.#headers().delete(k, match);
  }
  last(k: string, match?: Match): string {
    return this.#headers().last(k, match as "exact" | undefined);
  }
  [Symbol.iterator](): Iterator<[string, string[]]> {
    return this.#headers()[Symbol.iterator]();
  }
}

const LINE_BREAK = /[\r\n]/;

/**
 * Encodes a message in the CloudEvents NATS binding's binary mode (attributes from wire.toBinary as headers,
 * data as the body). With `msgId`, the message id also goes out as `Nats-Msg-Id` (JetStream de-duplication).
 * Throws MessageTooLargeError when headers plus body exceed `maxPayload`, InvalidMessageError for a header
 * value that would break the header block.
 */
export function encode(message: Message, maxPayload: number, { msgId = false }: { msgId?: boolean } = {}): Encoded {
  const binary = toBinary(message);
  const fields = binary.headers;
  let block = "NATS/1.0";
  for (const key in fields) block += `\r\n${key}: ${fields[key]!}`;
  if (msgId) block += `\r\nNats-Msg-Id: ${encodeHeaderValue(message.id)}`;
  block += "\r\n\r\n";
  // Everything but these two is percent-encoded by toBinary.
  const ctype = fields["content-type"];
  if ((ctype !== undefined && LINE_BREAK.test(ctype)) || LINE_BREAK.test(fields["ce-time"] ?? "")) {
    throw new InvalidMessageError("content type and time may not contain line breaks");
  }
  const bytes = Buffer.from(block, "utf8");
  const size = bytes.byteLength + binary.body.byteLength;
  if (size > maxPayload) throw new MessageTooLargeError(size, maxPayload);
  return { message, headers: new EncodedHeaders(bytes), body: binary.body, size };
}

/**
 * Encodes a batch for `connection` (each message checked against its max payload) and waits, within the
 * disconnect buffer's bounds, until the connection can take it. Throws what encode() and whenConnected() throw.
 */
export async function encodeBatch(
  connection: PooledConnection,
  messages: readonly Message[],
  bufferTimeoutMs: number,
  options: { msgId?: boolean } = {},
): Promise<Encoded[]> {
  const encoded: Encoded[] = new Array(messages.length);
  let bytes = 0;
  for (let i = 0; i < messages.length; i++) {
    const e = encode(messages[i]!, connection.maxPayload, options);
    encoded[i] = e;
    bytes += e.size;
  }
  const wait = connection.whenConnected(messages.length, bytes, bufferTimeoutMs);
  if (wait !== undefined) await wait;
  return encoded;
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
export function decode(msg: Pick<Msg, "subject" | "data" | "headers">, origin: Origin): Message {
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

function pairs(headers: MsgHdrs): Array<[string, string]> {
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

function plain(msg: Pick<Msg, "subject" | "data" | "headers">, origin: Origin, decodeError: string | undefined): Message {
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
