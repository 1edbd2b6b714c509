"use client";

import { useState, type FormEvent } from "react";
import { usePublish } from "../api/hooks";
import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { SelectField, TextAreaField, TextField } from "../ui/field";
import { Panel } from "../ui/panel";
import { ErrorState } from "../ui/states";
import { draftToEvent, type EventDraft } from "./event-draft";
import { MessageIdLink } from "./message-id-link";

const initialDraft: EventDraft = {
  id: "",
  type: "com.example.test",
  source: "/whisper/dashboard",
  subject: "",
  orderingKey: "",
  datacontenttype: "application/json",
  data: '{\n  "hello": "world"\n}',
};

/** "Publish test event": one structured CloudEvent to POST /api/topics/{topic}/events; shows each outcome. */
export function PublishForm({ topic, ordered }: { topic: string; ordered: boolean }) {
  const [draft, setDraft] = useState<EventDraft>(initialDraft);
  const [draftError, setDraftError] = useState<string | null>(null);
  const publish = usePublish(topic);
  const set = (key: keyof EventDraft) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [key]: e.target.value }));

  // Each submit starts from a clean slate: the outcome of the previous publish never shows under a new error.
  function submit(event: FormEvent) {
    event.preventDefault();
    publish.reset();
    const result = draftToEvent(ordered ? draft : { ...draft, orderingKey: "" });
    if (!result.ok) {
      setDraftError(result.error);
      return;
    }
    setDraftError(null);
    publish.mutate(result.event, { onSuccess: () => setDraft((d) => ({ ...d, id: "" })) });
  }

  return (
    <Panel title="Publish test event">
      <form onSubmit={submit} aria-label="Publish test event" className="flex flex-col gap-3">
        <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
          <TextField label="Type" name="type" required value={draft.type} onChange={set("type")} />
          <TextField label="Source" name="source" required value={draft.source} onChange={set("source")} />
          <TextField label="Subject" name="subject" value={draft.subject} onChange={set("subject")} />
          <TextField
            label="Ordering key"
            name="orderingKey"
            value={ordered ? draft.orderingKey : ""}
            onChange={set("orderingKey")}
            disabled={!ordered}
            placeholder={ordered ? "" : "unordered topic"}
            hint={ordered ? "Messages of one key are delivered in order." : "Ordering keys need an ordered topic."}
          />
          <TextField label="Id" name="id" value={draft.id} onChange={set("id")} placeholder="generated" />
          <SelectField label="Content type" name="datacontenttype" value={draft.datacontenttype} onChange={set("datacontenttype")}>
            <option value="application/json">application/json</option>
            <option value="text/plain">text/plain</option>
          </SelectField>
        </div>
        <TextAreaField label="Data" name="data" rows={5} value={draft.data} onChange={set("data")} spellCheck={false} />
        {draftError && (
          <p role="alert" className="text-sm text-danger">
            {draftError}
          </p>
        )}
        <div>
          <Button type="submit" variant="primary" disabled={publish.isPending}>
            {publish.isPending ? "Publishing…" : "Publish"}
          </Button>
        </div>
        {publish.isError && <ErrorState title="Publish failed" error={publish.error} />}
        {publish.isSuccess && (
          <ul aria-label="Publish results" className="flex flex-col gap-1 text-sm">
            {publish.data.results.map((r) => (
              <li key={r.id} className="flex flex-wrap items-center gap-2">
                <Badge tone={r.status === "published" ? "ok" : r.status === "pending" ? "warn" : "danger"}>{r.status}</Badge>
                {r.status === "pending" && <span className="text-warn">not confirmed yet; still retrying</span>}
                <MessageIdLink id={r.id} />
                {r.error && (
                  <span className="text-danger">
                    {r.error.code}: {r.error.message}
                  </span>
                )}
              </li>
            ))}
          </ul>
        )}
      </form>
    </Panel>
  );
}
