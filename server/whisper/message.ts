import { nuid } from "@nats-io/nuid";
import { defaults } from "./defaults.js";
import { InvalidMessageError } from "./errors.js";

/** A CloudEvents extension value (the spec's Boolean, Integer and String types). */
export type ExtensionValue = string | number | boolean;

/** The fields a caller may give when creating a message; everything is optional but the data. */
export interface MessageInit {
  id?: string;
  source?: string;
  type?: string;
  time?: string | Date;
  subject?: string;
  datacontenttype?: string;
  dataschema?: string;
  /** JSON-serialisable value, a string (text) or a Uint8Array (bytes). */
  data?: unknown;
  /** Travels as the CloudEvents extension `orderingkey`. */
  orderingKey?: string;
  extensions?: Record<string, ExtensionValue>;
}

/** CloudEvents attribute names that are not extensions. */
const CONTEXT_ATTRIBUTES = new Set([
  "specversion",
  "id",
  "source",
  "type",
  "time",
  "subject",
  "datacontenttype",
  "dataschema",
  "data",
  "data_base64",
]);
const EXTENSION_NAME = /^[a-z0-9]+$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

const BYTES_TYPE = "application/octet-stream";
const JSON_TYPE = "application/json";
const TEXT_TYPE = "text/plain; charset=utf-8";

/** The encoded form of a message's data: JSON text, plain text or bytes. */
export type Body = string | Uint8Array;

/** Internal shape shared by the constructors below; every field already validated. */
interface MessageFields {
  id: string;
  source: string;
  type: string;
  time: string;
  subject: string | undefined;
  datacontenttype: string | undefined;
  dataschema: string | undefined;
  data: unknown;
  body: Body | undefined;
  extensions: Readonly<Record<string, ExtensionValue>>;
}

/**
 * A CloudEvent 1.0, frozen. `data` is what the caller gave (or what was decoded from the wire); `body` is
 * its encoded form, computed once at creation, so what is sent never changes after publish() even if the
 * caller mutates its data object afterwards. Changes go through `with()`, which returns a new message.
 */
export class Message {
  readonly specversion = "1.0" as const;
  readonly id: string;
  readonly source: string;
  readonly type: string;
  /** RFC 3339 timestamp. */
  readonly time: string;
  readonly subject: string | undefined;
  readonly datacontenttype: string | undefined;
  readonly dataschema: string | undefined;
  readonly data: unknown;
  /** `data` encoded: JSON text, plain text or bytes; undefined when the event has no data. */
  readonly body: Body | undefined;
  readonly extensions: Readonly<Record<string, ExtensionValue>>;

  /** @internal Use createMessage(), Message.fromWire() or message.with(). */
  constructor(fields: MessageFields) {
    this.id = fields.id;
    this.source = fields.source;
    this.type = fields.type;
    this.time = fields.time;
    this.subject = fields.subject;
    this.datacontenttype = fields.datacontenttype;
    this.dataschema = fields.dataschema;
    this.data = fields.data;
    this.body = fields.body;
    this.extensions = fields.extensions;
    if (new.target === Message) Object.freeze(this);
  }

  /** The ordering key (the `orderingkey` extension), if any. */
  get orderingKey(): string | undefined {
    const key = this.extensions.orderingkey;
    return typeof key === "string" && key.length > 0 ? key : undefined;
  }

  /** Approximate encoded size in bytes (attributes + body), used for batching and flow control. */
  get size(): number {
    let n = 64 + this.id.length + this.source.length + this.type.length + (this.subject?.length ?? 0);
    const body = this.body;
    if (body !== undefined) n += typeof body === "string" ? body.length : body.byteLength;
    for (const k in this.extensions) n += k.length + String(this.extensions[k]).length + 8;
    return n;
  }

  /** A copy with the given fields changed (validated like createMessage). Data given here is re-encoded. */
  with(changes: MessageInit): Message {
    const hasData = "data" in changes;
    return createMessage({
      id: this.id,
      source: this.source,
      type: this.type,
      time: this.time,
      subject: this.subject,
      datacontenttype: hasData ? changes.datacontenttype : this.datacontenttype,
      dataschema: this.dataschema,
      data: hasData ? changes.data : this.data,
      ...changes,
      extensions: { ...this.extensions, ...changes.extensions },
    });
  }

  /** Every context attribute that is set, extensions included, without the data (a fresh object). */
  attributes(): Record<string, unknown> {
    const out: Record<string, unknown> = {
      specversion: this.specversion,
      id: this.id,
      source: this.source,
      type: this.type,
      time: this.time,
    };
    if (this.subject !== undefined) out.subject = this.subject;
    if (this.datacontenttype !== undefined) out.datacontenttype = this.datacontenttype;
    if (this.dataschema !== undefined) out.dataschema = this.dataschema;
    return Object.assign(out, this.extensions);
  }

  /** The CloudEvents JSON (structured mode) object: data for JSON and text, data_base64 for bytes. */
  toJSON(): Record<string, unknown> {
    const out = this.attributes();
    if (this.body instanceof Uint8Array) out.data_base64 = Buffer.from(this.body).toString("base64");
    else if (this.body !== undefined) out.data = this.data;
    return out;
  }

  /**
   * Builds a message from decoded wire attributes and an encoded body (drivers use this). The body is
   * decoded according to `datacontenttype`: JSON types parse, text types stay strings, others are bytes.
   * Throws InvalidMessageError when attributes are invalid or a JSON body does not parse.
   */
  static fromWire(attributes: Record<string, unknown>, body: Body | undefined): Message {
    const ctype = optionalString(attributes.datacontenttype, "datacontenttype");
    let data: unknown = undefined;
    let encoded: Body | undefined = body;
    if (body !== undefined) {
      if (isJsonType(ctype)) {
        const text = typeof body === "string" ? body : utf8.decode(body);
        if (text.length === 0) {
          encoded = undefined;
        } else {
          try {
            data = JSON.parse(text);
          } catch (cause) {
            throw new InvalidMessageError(`data is not valid JSON for content type ${ctype}`, { cause });
          }
          encoded = text;
        }
      } else if (isTextType(ctype)) {
        data = typeof body === "string" ? body : utf8.decode(body);
        encoded = data as string;
      } else {
        data = typeof body === "string" ? utf8.encode(body) : body;
        encoded = data as Uint8Array;
      }
    }
    if (attributes.specversion !== undefined && attributes.specversion !== "1.0") {
      throw new InvalidMessageError(`unsupported specversion ${JSON.stringify(attributes.specversion)}`);
    }
    const extensions: Record<string, ExtensionValue> = {};
    for (const key of Object.keys(attributes)) {
      if (CONTEXT_ATTRIBUTES.has(key)) continue;
      // Checked before assigning: a name like "__proto__" must never reach an object's setter.
      if (!EXTENSION_NAME.test(key)) {
        throw new InvalidMessageError(
          `extension name ${JSON.stringify(key)} must be lower-case letters and digits only (CloudEvents naming rule)`,
        );
      }
      extensions[key] = attributes[key] as ExtensionValue;
    }
    validateExtensions(extensions);
    return new Message({
      id: requiredString(attributes.id, "id"),
      source: requiredString(attributes.source, "source"),
      type: requiredString(attributes.type, "type"),
      time: attributes.time === undefined ? nowIso() : normaliseTime(attributes.time),
      subject: optionalString(attributes.subject, "subject"),
      datacontenttype: ctype,
      dataschema: optionalString(attributes.dataschema, "dataschema"),
      data,
      body: encoded,
      extensions: Object.freeze(extensions),
    });
  }
}

/** Settles one delivery; implemented by the subscription that delivered the message. */
export interface Settler {
  ack(message: ReceivedMessage): void;
  nack(message: ReceivedMessage, delayMs?: number): void;
}

/**
 * A message as a subscription delivers it: the same attributes plus `deliveryAttempt` (1 on first
 * delivery) and ack()/nack(). Only the first ack() or nack() counts; later calls do nothing.
 */
export class ReceivedMessage extends Message {
  readonly deliveryAttempt: number;
  /** The driver's handle for acking this delivery. */
  readonly ackId: unknown;
  /** The broker's position of this message (a JetStream stream sequence), when the driver has one. */
  readonly sequence: bigint | number | undefined;
  #settler: Settler;
  #state: "pending" | "acked" | "nacked" = "pending";

  constructor(message: Message, deliveryAttempt: number, ackId: unknown, settler: Settler, sequence?: bigint | number) {
    super(message);
    this.deliveryAttempt = deliveryAttempt;
    this.ackId = ackId;
    this.sequence = sequence;
    this.#settler = settler;
    Object.freeze(this);
  }

  /** "pending" until the first ack() or nack(). */
  get settlement(): "pending" | "acked" | "nacked" {
    return this.#state;
  }

  /** Confirms the message was handled; it will not be redelivered. Idempotent. */
  ack(): void {
    if (this.#state !== "pending") return;
    this.#state = "acked";
    this.#settler.ack(this);
  }

  /** Hands the message back for redelivery (where the driver can), optionally after a delay. Idempotent. */
  nack(delayMs?: number): void {
    if (this.#state !== "pending") return;
    this.#state = "nacked";
    this.#settler.nack(this, delayMs);
  }
}

/**
 * Makes a frozen CloudEvent 1.0. The id comes from nuid, time is now, source and type default to the values
 * in defaults.ts, and the data content type is inferred (JSON, text or bytes) when not given.
 * Throws InvalidMessageError for invalid attributes or data that cannot be serialised.
 */
export function createMessage(init: MessageInit = {}): Message {
  if (init === null || typeof init !== "object") throw new InvalidMessageError("expected an object");
  const extensions: Record<string, ExtensionValue> = init.extensions ? { ...init.extensions } : {};
  if (init.orderingKey !== undefined) {
    if (typeof init.orderingKey !== "string" || init.orderingKey.length === 0) {
      throw new InvalidMessageError("orderingKey must be a non-empty string");
    }
    extensions.orderingkey = init.orderingKey;
  }
  validateExtensions(extensions);
  const { body, datacontenttype } = encodeData(init.data, optionalString(init.datacontenttype, "datacontenttype"));
  return new Message({
    id: init.id === undefined ? nuid.next() : requiredString(init.id, "id"),
    source: init.source === undefined ? defaults.message.source : requiredString(init.source, "source"),
    type: init.type === undefined ? defaults.message.type : requiredString(init.type, "type"),
    time: init.time === undefined ? nowIso() : normaliseTime(init.time),
    subject: optionalString(init.subject, "subject"),
    datacontenttype,
    dataschema: optionalString(init.dataschema, "dataschema"),
    data: body === undefined ? undefined : init.data,
    body,
    extensions: Object.freeze(extensions),
  });
}

let lastMs = 0;
let lastIso = "";
/** The current time as RFC 3339; formatted once per millisecond (it is on the publish hot path). */
function nowIso(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/** A fresh nuid, the id format of every message whisper creates. */
export function newId(): string {
  return nuid.next();
}

export function isJsonType(ctype: string | undefined): boolean {
  if (ctype === undefined) return false;
  const base = ctype.split(";", 1)[0]!.trim().toLowerCase();
  return base === JSON_TYPE || base.endsWith("+json") || base === "text/json";
}

export function isTextType(ctype: string | undefined): boolean {
  if (ctype === undefined) return false;
  const base = ctype.split(";", 1)[0]!.trim().toLowerCase();
  return base.startsWith("text/") || base === "application/xml" || base.endsWith("+xml");
}

export const utf8 = {
  encoder: new TextEncoder(),
  decoder: new TextDecoder("utf-8", { fatal: false }),
  encode(text: string): Uint8Array {
    return this.encoder.encode(text);
  },
  decode(bytes: Uint8Array): string {
    return this.decoder.decode(bytes);
  },
};

/** The body as bytes (for drivers that send bytes). */
export function bodyBytes(body: Body | undefined): Uint8Array {
  if (body === undefined) return EMPTY;
  return typeof body === "string" ? utf8.encode(body) : body;
}
const EMPTY = new Uint8Array(0);

function encodeData(
  data: unknown,
  ctype: string | undefined,
): { body: Body | undefined; datacontenttype: string | undefined } {
  if (data === undefined) return { body: undefined, datacontenttype: ctype };
  if (data instanceof Uint8Array) return { body: data, datacontenttype: ctype ?? BYTES_TYPE };
  if (data instanceof ArrayBuffer) return { body: new Uint8Array(data), datacontenttype: ctype ?? BYTES_TYPE };
  if (typeof data === "string") {
    // A string is raw text; with a JSON content type it is taken as already-encoded JSON text.
    return { body: data, datacontenttype: ctype ?? TEXT_TYPE };
  }
  if (ctype !== undefined && !isJsonType(ctype)) {
    throw new InvalidMessageError(
      `data of type ${typeof data} needs a JSON content type, not ${JSON.stringify(ctype)} (pass a string or bytes instead)`,
    );
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (cause) {
    throw new InvalidMessageError(`data cannot be serialised as JSON: ${(cause as Error).message}`, { cause });
  }
  if (text === undefined) throw new InvalidMessageError(`data of type ${typeof data} cannot be serialised as JSON`);
  if (typeof data === "number" && !Number.isFinite(data)) {
    throw new InvalidMessageError(`data ${data} is not a finite number`);
  }
  return { body: text, datacontenttype: ctype ?? JSON_TYPE };
}

function validateExtensions(extensions: Record<string, unknown>): void {
  for (const name of Object.keys(extensions)) {
    if (!EXTENSION_NAME.test(name)) {
      throw new InvalidMessageError(
        `extension name ${JSON.stringify(name)} must be lower-case letters and digits only (CloudEvents naming rule)`,
      );
    }
    if (CONTEXT_ATTRIBUTES.has(name)) throw new InvalidMessageError(`extension name "${name}" is reserved`);
    const value = extensions[name];
    if (typeof value === "string" || typeof value === "boolean") continue;
    if (typeof value === "number" && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX) continue;
    throw new InvalidMessageError(
      `extension "${name}" must be a string, a boolean or a 32-bit integer, got ${describeValue(value)}`,
    );
  }
}

function requiredString(value: unknown, name: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new InvalidMessageError(`${name} must be a non-empty string, got ${describeValue(value)}`);
  }
  return value;
}

function optionalString(value: unknown, name: string): string | undefined {
  return value === undefined || value === null ? undefined : requiredString(value, name);
}

function normaliseTime(value: unknown): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new InvalidMessageError("time is an invalid Date");
    return value.toISOString();
  }
  if (typeof value === "string" && !Number.isNaN(Date.parse(value))) return value;
  throw new InvalidMessageError(`time must be a Date or an RFC 3339 timestamp, got ${describeValue(value)}`);
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value;
}
