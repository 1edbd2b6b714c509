import type { StructuredCloudEvent } from "../api/types";

// Turns the publish form into a structured-mode CloudEvent. Pure, so it is easy to reason about:
// - `id`: the given one, else 20 random hex characters (crypto.getRandomValues works on plain-http origins too);
// - JSON content types put the parsed value in `data`; anything else sends the text as is;
// - the ordering key travels as the extension `orderingkey` (CloudEvents naming: lower-case letters and digits).

export type EventDraft = {
  id: string;
  type: string;
  source: string;
  subject: string;
  orderingKey: string;
  datacontenttype: string;
  data: string;
};

export function randomId(): string {
  const bytes = new Uint8Array(10);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function isJsonType(contentType: string): boolean {
  const base = contentType.split(";")[0].trim().toLowerCase();
  return base === "application/json" || base === "text/json" || base.endsWith("+json");
}

export type DraftResult = { ok: true; event: StructuredCloudEvent } | { ok: false; error: string };

export function draftToEvent(d: EventDraft): DraftResult {
  if (!d.type.trim()) return { ok: false, error: "type is required" };
  if (!d.source.trim()) return { ok: false, error: "source is required" };
  const event: StructuredCloudEvent = {
    specversion: "1.0",
    id: d.id.trim() || randomId(),
    type: d.type.trim(),
    source: d.source.trim(),
    time: new Date().toISOString(),
  };
  if (d.subject.trim()) event.subject = d.subject.trim();
  if (d.orderingKey.trim()) event.orderingkey = d.orderingKey.trim();
  if (d.data !== "") {
    event.datacontenttype = d.datacontenttype;
    if (isJsonType(d.datacontenttype)) {
      try {
        event.data = JSON.parse(d.data);
      } catch (e) {
        return { ok: false, error: `data is not valid JSON: ${(e as Error).message}` };
      }
    } else {
      event.data = d.data;
    }
  }
  return { ok: true, event };
}
