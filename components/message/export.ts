import type { MessageDetail, StructuredCloudEvent } from "../api/types";

// A stored message as a structured-mode CloudEvent (JSON) and as a curl command that publishes it again
// through this dashboard's API. Pure functions of the message and the origin.

export function toStructuredEvent(m: MessageDetail): StructuredCloudEvent {
  const event: StructuredCloudEvent = { specversion: "1.0", id: m.id, source: m.source, type: m.type };
  if (m.subject !== null) event.subject = m.subject;
  if (m.time) event.time = m.time;
  if (m.datacontenttype !== null) event.datacontenttype = m.datacontenttype;
  if (m.dataschema !== null) event.dataschema = m.dataschema;
  for (const [key, value] of Object.entries(m.extensions)) {
    if (!(key in event)) event[key] = value;
  }
  switch (m.data.encoding) {
    case "json":
      try {
        event.data = JSON.parse(m.data.value);
      } catch {
        event.data = m.data.value;
      }
      break;
    case "text":
      event.data = m.data.value;
      break;
    case "base64":
      event.data_base64 = m.data.value;
      break;
    case "none":
      break;
  }
  return event;
}

export function toJson(m: MessageDetail): string {
  return JSON.stringify(toStructuredEvent(m), null, 2);
}

/** Single-quotes a string for POSIX shells: ' becomes '\''. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The token is left as $WHISPER_ADMIN_TOKEN: the dashboard never has it in the page. */
export function toCurl(m: MessageDetail, origin: string): string {
  const url = `${origin}/api/topics/${encodeURIComponent(m.topic)}/events`;
  return [
    `curl -sS -X POST ${shellQuote(url)}`,
    `  -H "Authorization: Bearer $WHISPER_ADMIN_TOKEN"`,
    `  -H 'Content-Type: application/cloudevents+json'`,
    `  --data-binary ${shellQuote(JSON.stringify(toStructuredEvent(m)))}`,
  ].join(" \\\n");
}
