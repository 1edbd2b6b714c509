import { bodyBytes, Message, newId } from "../../message.js";
import { fromStructured, isStructured } from "../../wire.js";

/**
 * The CloudEvents MQTT binding, MQTT 5 binary mode (pure functions, no I/O): every attribute but
 * datacontenttype as a User Property named as the attribute (unprefixed, as the binding says), datacontenttype as
 * the Content Type property, data as the payload. On receipt: `specversion` among the user properties → binary
 * mode; a Content Type `application/cloudevents+json`, or (MQTT 3.1.1 publishers have no properties) a payload that
 * is a JSON object with `specversion` → structured mode; anything else is a plain message.
 */

/** The CloudEvents type given to messages a non-CloudEvents client published. */
export const PLAIN_MESSAGE_TYPE = "mqtt.message";

const ATTRIBUTE_NAME = /^[a-z0-9]{1,20}$/;

export interface MqttWire {
  readonly payload: Buffer;
  readonly userProperties: Record<string, string | string[]>;
  readonly contentType?: string;
}

export function encodeMessage(message: Message): MqttWire {
  const userProperties: Record<string, string> = {
    specversion: message.specversion,
    id: message.id,
    source: message.source,
    type: message.type,
    time: message.time,
  };
  if (message.subject !== undefined) userProperties.subject = message.subject;
  if (message.dataschema !== undefined) userProperties.dataschema = message.dataschema;
  for (const [name, value] of Object.entries(message.extensions)) userProperties[name] = String(value);
  const bytes = bodyBytes(message.body);
  return {
    payload: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    userProperties,
    contentType: message.datacontenttype,
  };
}

/** Where a message came from, for the attributes of plain messages. */
export interface MqttOrigin {
  /** `mqtt://host:port`: the source of plain messages. */
  readonly source: string;
  /** The MQTT topic the message was published to: the subject of plain messages. */
  readonly topic: string;
}

/**
 * Decodes a received PUBLISH. User properties whose names are not CloudEvents attribute names (lower-case letters
 * and digits) are ignored; a repeated property counts by its first value. A message that claims to be a CloudEvent
 * but is invalid is delivered as a plain message with the extension `decodeerror` saying why.
 */
export function decodeMessage(wire: MqttWire, origin: MqttOrigin): Message {
  const body = wire.payload.byteLength > 0 ? wire.payload : undefined;
  try {
    if (wire.userProperties.specversion !== undefined) {
      const attributes: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(wire.userProperties)) {
        if (ATTRIBUTE_NAME.test(name)) attributes[name] = Array.isArray(value) ? value[0] : value;
      }
      if (wire.contentType !== undefined) attributes.datacontenttype = wire.contentType;
      return Message.fromWire(attributes, body);
    }
    if (isStructured(wire.contentType)) return fromStructured(new Uint8Array(wire.payload));
    if (wire.contentType === undefined && looksStructured(wire.payload)) {
      try {
        return fromStructured(new Uint8Array(wire.payload));
      } catch {
        // A JSON payload that is not a CloudEvent.
      }
    }
  } catch (error) {
    return plain(wire, origin, (error as Error).message);
  }
  return plain(wire, origin, undefined);
}

function looksStructured(payload: Buffer): boolean {
  const text = payload.subarray(0, 1).toString();
  return text === "{" && payload.includes("specversion");
}

function plain(wire: MqttWire, origin: MqttOrigin, decodeError: string | undefined): Message {
  const attributes: Record<string, unknown> = { id: newId(), source: origin.source, type: PLAIN_MESSAGE_TYPE, subject: origin.topic };
  if (decodeError !== undefined) attributes.decodeerror = decodeError.slice(0, 500);
  const body = wire.payload.byteLength > 0 ? wire.payload : undefined;
  if (wire.contentType !== undefined && decodeError === undefined) {
    try {
      return Message.fromWire({ ...attributes, datacontenttype: wire.contentType }, body);
    } catch {
      // The content type does not fit the payload: keep the bytes.
    }
  }
  return Message.fromWire({ ...attributes, datacontenttype: body === undefined ? undefined : "application/octet-stream" }, body);
}
