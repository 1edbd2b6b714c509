import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Message, wire, type ExtensionValue } from "@whisper/core";
import { storableProblems } from "@/server/history/storable";
import { isRfc3339 } from "@/server/http/events";
import type { FieldError } from "@/server/errors";
import {
  CloudEvent_CloudEventAttributeValueSchema,
  CloudEventSchema,
  type CloudEvent,
  type CloudEvent_CloudEventAttributeValue,
} from "./gen/io/cloudevents/v1/cloudevents_pb";
import { badArgument, tooLarge } from "./status";

/**
 * CloudEvents protobuf format (io.cloudevents.v1.CloudEvent) ↔ the core's Message, validated at the boundary
 * with the events route's rules (server/http/events.ts): every event meets history's storable rule, `time` is
 * an RFC 3339 timestamp, and each event's structured JSON encoding is at most `maxEventBytes`.
 *
 * Contract of toMessage(): returns a Message or throws a ConnectError — INVALID_ARGUMENT with a BadRequest
 * naming every bad field by its path in the request (e.g. `events[2].attributes["time"]`), RESOURCE_EXHAUSTED
 * for an event over the size limit. Mapping:
 * - id, source, type are required; spec_version must be "1.0";
 * - `attributes` hold the optional attributes (time as ce_timestamp or an RFC 3339 ce_string, subject,
 *   datacontenttype, dataschema) and extensions (lower-case letters and digits; Boolean, Integer, String;
 *   Binary becomes its base64 text, URI, URI-reference and Timestamp their text, as CloudEvents' string forms);
 * - binary_data is the data bytes, decoded by datacontenttype as the HTTP binary mode does (JSON types parse);
 *   text_data is text (datacontenttype defaults to text/plain; charset=utf-8); proto_data is refused.
 * fromMessage() is the inverse for deliveries: JSON and text bodies as text_data, bytes as binary_data, time as
 * ce_timestamp, dataschema as ce_uri, extensions by their type.
 */

const REQUIRED = new Set(["id", "source", "type", "specversion", "spec_version"]);
const TEXT_DEFAULT_TYPE = "text/plain; charset=utf-8";
const EXTENSION_NAME = /^[a-z0-9]+$/;
const STRING_ATTRIBUTES = new Set(["subject", "datacontenttype", "dataschema"]);

export function toMessage(event: CloudEvent | undefined, path: string, maxEventBytes: number): Message {
  const decoded = decodeEvent(event, path, maxEventBytes);
  if (Array.isArray(decoded)) throw badArgument(decoded);
  return decoded;
}

/**
 * The events of a batch request (`events[i]`): a BadRequest names every bad field of every event; the first
 * event over the size limit is a RESOURCE_EXHAUSTED.
 */
export function toMessages(events: readonly CloudEvent[], maxEventBytes: number): Message[] {
  const errors: FieldError[] = [];
  const messages: Message[] = [];
  events.forEach((event, i) => {
    const decoded = decodeEvent(event, `events[${i}]`, maxEventBytes);
    if (Array.isArray(decoded)) errors.push(...decoded);
    else messages.push(decoded);
  });
  if (errors.length > 0) throw badArgument(errors);
  return messages;
}

/** The event as a Message, or every bad field of it; throws RESOURCE_EXHAUSTED when it is too large. */
function decodeEvent(event: CloudEvent | undefined, path: string, maxEventBytes: number): Message | FieldError[] {
  if (event === undefined) return [{ path, message: "is required" }];
  const errors: FieldError[] = [];
  const attributes: Record<string, unknown> = { specversion: "1.0" };
  for (const name of ["id", "source", "type"] as const) {
    if (event[name].length === 0) errors.push({ path: `${path}.${name}`, message: "must not be empty" });
    attributes[name] = event[name];
  }
  if (event.specVersion !== "1.0") errors.push({ path: `${path}.spec_version`, message: 'must be "1.0"' });
  for (const [name, value] of Object.entries(event.attributes)) {
    const where = `${path}.attributes[${JSON.stringify(name)}]`;
    if (REQUIRED.has(name)) {
      errors.push({ path: where, message: `${name} is a field of the event, not an attribute` });
    } else if (!EXTENSION_NAME.test(name)) {
      errors.push({ path: where, message: "attribute names are lower-case letters and digits only (CloudEvents naming rule)" });
    } else {
      const decoded = attributeValue(name, value);
      if (typeof decoded === "object") errors.push({ path: where, message: decoded.error });
      else attributes[name] = decoded;
    }
  }
  let body: string | Uint8Array | undefined;
  const data = event.data;
  if (data.case === "binaryData") body = data.value;
  else if (data.case === "textData") {
    body = data.value;
    if (attributes.datacontenttype === undefined) attributes.datacontenttype = TEXT_DEFAULT_TYPE;
  } else if (data.case === "protoData") {
    errors.push({ path: `${path}.proto_data`, message: "is not supported: send the message's bytes as binary_data (with datacontenttype application/protobuf)" });
  }
  if (errors.length > 0) return errors;
  let message: Message;
  try {
    message = Message.fromWire(attributes, body);
  } catch (error) {
    // The core's InvalidMessageError: an invalid extension value or data that does not parse as its type says.
    const detail = error instanceof Error ? error.message : String(error);
    return [{ path: data.case === undefined ? path : `${path}.${data.case === "binaryData" ? "binary_data" : "text_data"}`, message: detail }];
  }
  const problems = storableProblems(message).map((p) => ({ path: fieldPath(path, p.field, data.case), message: p.message }));
  if (problems.length > 0) return problems;
  const size = Buffer.byteLength(wire.toStructured(message));
  if (size > maxEventBytes) {
    throw tooLarge(`${path} is ${size} bytes in its structured JSON encoding; the limit is ${maxEventBytes} bytes (WHISPER_MAX_EVENT_BYTES)`, path);
  }
  return message;
}

/** The request path of a Message field named by history's storable rule. */
function fieldPath(path: string, field: string, dataCase: CloudEvent["data"]["case"]): string {
  if (field === "id" || field === "source" || field === "type") return `${path}.${field}`;
  if (field === "data") return `${path}.${dataCase === "binaryData" ? "binary_data" : "text_data"}`;
  return `${path}.attributes[${JSON.stringify(field)}]`;
}

/** An attribute's value in the core's terms (ExtensionValue, or the text of time/subject/…), or why not. */
function attributeValue(name: string, value: CloudEvent_CloudEventAttributeValue): ExtensionValue | { error: string } {
  const attr = value.attr;
  if (name === "time") {
    if (attr.case === "ceTimestamp") return timestampText(attr.value) ?? { error: "is not a valid timestamp (seconds within years 0001–9999, nanos 0–999,999,999)" };
    if ((attr.case === "ceString" || attr.case === "ceUriRef") && isRfc3339(attr.value)) return attr.value;
    return { error: "must be a ce_timestamp, or a ce_string holding an RFC 3339 timestamp such as 2026-01-31T12:00:00Z" };
  }
  if (STRING_ATTRIBUTES.has(name)) {
    if (attr.case === "ceString" || attr.case === "ceUri" || attr.case === "ceUriRef") return attr.value;
    return { error: "must be a ce_string (or ce_uri / ce_uri_ref)" };
  }
  switch (attr.case) {
    case "ceBoolean":
    case "ceInteger":
    case "ceString":
    case "ceUri":
    case "ceUriRef":
      return attr.value;
    case "ceBytes":
      return Buffer.from(attr.value).toString("base64");
    case "ceTimestamp":
      return timestampText(attr.value) ?? { error: "is not a valid timestamp" };
    default:
      return { error: "has no value (set one of ce_boolean, ce_integer, ce_string, ce_bytes, ce_uri, ce_uri_ref, ce_timestamp)" };
  }
}

/** RFC 3339 text of a protobuf Timestamp, nanoseconds kept; undefined when out of range. */
function timestampText(ts: Timestamp): string | undefined {
  const nanos = ts.nanos;
  if (!Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) return undefined;
  const date = timestampDate({ ...ts, nanos: 0 });
  const year = date.getUTCFullYear();
  if (Number.isNaN(date.getTime()) || year < 1 || year > 9999) return undefined;
  const base = date.toISOString().slice(0, 19);
  const fraction = nanos === 0 ? "" : `.${String(nanos).padStart(9, "0").replace(/0+$/, "")}`;
  return `${base}${fraction}Z`;
}

/** The message in the CloudEvents protobuf format. */
export function fromMessage(message: Message): CloudEvent {
  const attributes: Record<string, CloudEvent_CloudEventAttributeValue> = {};
  const set = (name: string, attr: CloudEvent_CloudEventAttributeValue["attr"]) =>
    (attributes[name] = create(CloudEvent_CloudEventAttributeValueSchema, { attr }));
  const time = new Date(message.time);
  if (Number.isNaN(time.getTime())) set("time", { case: "ceString", value: message.time });
  else set("time", { case: "ceTimestamp", value: { ...timestampFromDate(time), nanos: nanosOf(message.time, time) } });
  if (message.subject !== undefined) set("subject", { case: "ceString", value: message.subject });
  if (message.datacontenttype !== undefined) set("datacontenttype", { case: "ceString", value: message.datacontenttype });
  if (message.dataschema !== undefined) set("dataschema", { case: "ceUri", value: message.dataschema });
  for (const [name, value] of Object.entries(message.extensions)) {
    if (typeof value === "boolean") set(name, { case: "ceBoolean", value });
    else if (typeof value === "number") set(name, { case: "ceInteger", value });
    else set(name, { case: "ceString", value });
  }
  const body = message.body;
  return create(CloudEventSchema, {
    id: message.id,
    source: message.source,
    specVersion: "1.0",
    type: message.type,
    attributes,
    data:
      body === undefined
        ? { case: undefined }
        : typeof body === "string"
          ? { case: "textData", value: body }
          : { case: "binaryData", value: body },
  });
}

/** The nanoseconds of an RFC 3339 time text (Date keeps only milliseconds). */
function nanosOf(text: string, date: Date): number {
  const fraction = /\.(\d{1,9})/.exec(text)?.[1];
  return fraction === undefined ? date.getUTCMilliseconds() * 1_000_000 : Number(fraction.padEnd(9, "0"));
}
