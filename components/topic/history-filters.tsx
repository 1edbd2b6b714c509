"use client";

import { useState, type FormEvent } from "react";
import type { MessageFilter } from "../api/types";
import { Button } from "../ui/button";
import { TextField } from "../ui/field";

// The history filter form. Filters apply on submit (not per keystroke), so each query is one the user asked for.
// Times are entered in local time (datetime-local) and sent as ISO 8601 UTC.

type Draft = { type: string; source: string; subject: string; orderingKey: string; q: string; from: string; to: string };

const empty: Draft = { type: "", source: "", subject: "", orderingKey: "", q: "", from: "", to: "" };

function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const ms = Date.parse(local);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** Draft → filter; blank fields are left out. */
export function draftToFilter(topic: string, d: Draft): MessageFilter {
  const filter: MessageFilter = { topic };
  for (const key of ["type", "source", "subject", "orderingKey", "q"] as const) {
    const value = d[key].trim();
    if (value) filter[key] = value;
  }
  const from = toIso(d.from);
  const to = toIso(d.to);
  if (from) filter.from = from;
  if (to) filter.to = to;
  return filter;
}

export function HistoryFilters({ topic, onApply }: { topic: string; onApply: (filter: MessageFilter) => void }) {
  const [draft, setDraft] = useState<Draft>(empty);
  const set = (key: keyof Draft) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [key]: e.target.value }));

  function submit(event: FormEvent) {
    event.preventDefault();
    onApply(draftToFilter(topic, draft));
  }

  function reset() {
    setDraft(empty);
    onApply({ topic });
  }

  return (
    <form onSubmit={submit} aria-label="History filters" className="grid grid-cols-2 gap-3 md:grid-cols-4 lg:grid-cols-8">
      <TextField label="Type" value={draft.type} onChange={set("type")} placeholder="com.example.*" />
      <TextField label="Source" value={draft.source} onChange={set("source")} />
      <TextField label="Subject" value={draft.subject} onChange={set("subject")} />
      <TextField label="Ordering key" value={draft.orderingKey} onChange={set("orderingKey")} />
      <TextField label="Text in data" value={draft.q} onChange={set("q")} type="search" />
      <TextField label="From" value={draft.from} onChange={set("from")} type="datetime-local" step={1} />
      <TextField label="To" value={draft.to} onChange={set("to")} type="datetime-local" step={1} />
      <div className="flex items-end gap-2">
        <Button type="submit" variant="primary">
          Apply
        </Button>
        <Button onClick={reset}>Reset</Button>
      </div>
    </form>
  );
}
