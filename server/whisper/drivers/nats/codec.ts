import { MsgHdrsImpl, type Match, type MsgHdrs } from "@nats-io/transport-node";
import { InvalidMessageError, MessageTooLargeError } from "../../errors.js";
import type { Message } from "../../message.js";
import { encodeHeaderValue, toBinary } from "../../wire.js";
import type { PooledConnection } from "./pool.js";

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

export { decode, PLAIN_MESSAGE_TYPE, type Origin } from "./decode.js";
