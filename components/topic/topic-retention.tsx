"use client";

import { useState, type FormEvent } from "react";
import { useSetRetention } from "../api/hooks";
import type { RetentionChange, TopicSummary } from "../api/types";
import { AdminOnly } from "../layout/admin-only";
import { Button } from "../ui/button";
import { Dialog } from "../ui/dialog";
import { controlBaseClass } from "../ui/field";
import { formatCount, formatDateTime, timeAgo } from "../ui/format";
import { ErrorState } from "../ui/states";

// What history keeps of a topic (issue 10): the limits that apply, how many messages are kept and the oldest one;
// admins change the topic's own setting (PATCH /api/topics/{topic}: per limit a number, 0 = none, null = the
// server default). Viewers only read it.

const UNITS = [
  { value: "minutes", label: "minutes", seconds: 60 },
  { value: "hours", label: "hours", seconds: 3600 },
  { value: "days", label: "days", seconds: 86_400 },
] as const;
type Unit = (typeof UNITS)[number]["value"];

export function formatDuration(seconds: number): string {
  for (const unit of [...UNITS].reverse()) {
    if (seconds >= unit.seconds && seconds % unit.seconds === 0) {
      const n = seconds / unit.seconds;
      return `${formatCount(n)} ${n === 1 ? unit.label.slice(0, -1) : unit.label}`;
    }
  }
  return `${formatCount(seconds)} seconds`;
}

function limitsText(topic: TopicSummary): string {
  const { maxAgeSeconds, maxRows, setting } = topic.retention;
  const age = maxAgeSeconds === null ? "no age limit" : `up to ${formatDuration(maxAgeSeconds)}`;
  const rows = maxRows === null ? "no message limit" : `at most ${formatCount(maxRows)} messages`;
  const own = setting.maxAgeSeconds !== null || setting.maxRows !== null ? "this topic's setting" : "server defaults";
  return `Keeps ${age}, ${rows} (${own})`;
}

export function TopicRetention({ topic }: { topic: TopicSummary }) {
  const [editing, setEditing] = useState(false);
  return (
    <div className="flex flex-wrap items-center gap-x-3 gap-y-1 text-sm" data-testid="topic-retention">
      <span>{limitsText(topic)}.</span>
      <span className="text-muted">
        {formatCount(topic.keptMessages)} kept
        {topic.oldestMessageAt && (
          <>
            , the oldest received <time dateTime={topic.oldestMessageAt} title={formatDateTime(topic.oldestMessageAt)}>{timeAgo(topic.oldestMessageAt)}</time>
          </>
        )}
        .
      </span>
      <AdminOnly>
        <Button size="sm" variant="ghost" onClick={() => setEditing(true)}>
          Change retention…
        </Button>
        {editing && <RetentionDialog topic={topic} onClose={() => setEditing(false)} />}
      </AdminOnly>
    </div>
  );
}

type Choice = "default" | "none" | "custom";

function initialAge(seconds: number | null): { choice: Choice; amount: string; unit: Unit } {
  if (seconds === null) return { choice: "default", amount: "7", unit: "days" };
  if (seconds === 0) return { choice: "none", amount: "7", unit: "days" };
  const unit = [...UNITS].reverse().find((u) => seconds % u.seconds === 0) ?? UNITS[0];
  return { choice: "custom", amount: String(Math.max(1, Math.round(seconds / unit.seconds))), unit: unit.value };
}

function RetentionDialog({ topic, onClose }: { topic: TopicSummary; onClose: () => void }) {
  const save = useSetRetention(topic.name);
  const [age, setAge] = useState(() => initialAge(topic.retention.setting.maxAgeSeconds));
  const rowSetting = topic.retention.setting.maxRows;
  const [rows, setRows] = useState<{ choice: Choice; amount: string }>(() => ({
    choice: rowSetting === null ? "default" : rowSetting === 0 ? "none" : "custom",
    amount: String(rowSetting && rowSetting > 0 ? rowSetting : 1_000_000),
  }));
  const [problem, setProblem] = useState<string | null>(null);

  function submit(event: FormEvent) {
    event.preventDefault();
    const change: RetentionChange = {};
    const ageAmount = Number(age.amount);
    const rowAmount = Number(rows.amount);
    if (age.choice === "custom" && !(Number.isInteger(ageAmount) && ageAmount > 0)) return setProblem("The age limit is a whole number above 0.");
    if (rows.choice === "custom" && !(Number.isInteger(rowAmount) && rowAmount > 0)) return setProblem("The message limit is a whole number above 0.");
    setProblem(null);
    change.maxAgeSeconds = age.choice === "default" ? null : age.choice === "none" ? 0 : ageAmount * UNITS.find((u) => u.value === age.unit)!.seconds;
    change.maxRows = rows.choice === "default" ? null : rows.choice === "none" ? 0 : rowAmount;
    save.mutate(change, { onSuccess: onClose });
  }

  const choices = (name: string, value: Choice, set: (c: Choice) => void, custom: React.ReactNode) => (
    <div className="flex flex-col gap-1.5">
      {(["default", "none", "custom"] as const).map((c) => (
        <label key={c} className="flex flex-wrap items-center gap-2 text-sm">
          <input type="radio" name={name} checked={value === c} onChange={() => set(c)} className="accent-[var(--color-accent)]" />
          {c === "default" ? "Server default" : c === "none" ? "No limit" : "At most"}
          {c === "custom" && custom}
        </label>
      ))}
    </div>
  );

  return (
    <Dialog
      open
      onClose={onClose}
      title={`Retention of ${topic.name}`}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" form="retention-form" variant="primary" disabled={save.isPending}>
            {save.isPending ? "Saving…" : "Save"}
          </Button>
        </>
      }
    >
      <form id="retention-form" onSubmit={submit} className="flex flex-col gap-4" aria-label="Retention">
        <fieldset className="flex flex-col gap-1">
          <legend className="mb-1 text-xs font-medium text-muted">By age (messages received longer ago are deleted)</legend>
          {choices(
            "retention-age",
            age.choice,
            (choice) => setAge((a) => ({ ...a, choice })),
            <>
              <input
                aria-label="Age limit"
                inputMode="numeric"
                value={age.amount}
                onChange={(e) => setAge((a) => ({ ...a, amount: e.target.value, choice: "custom" }))}
                className={`${controlBaseClass} w-20`}
              />
              <select aria-label="Age unit" value={age.unit} onChange={(e) => setAge((a) => ({ ...a, unit: e.target.value as Unit, choice: "custom" }))} className={controlBaseClass}>
                {UNITS.map((u) => (
                  <option key={u.value} value={u.value}>
                    {u.label}
                  </option>
                ))}
              </select>
            </>,
          )}
        </fieldset>
        <fieldset className="flex flex-col gap-1">
          <legend className="mb-1 text-xs font-medium text-muted">By count (the oldest messages go first)</legend>
          {choices(
            "retention-rows",
            rows.choice,
            (choice) => setRows((r) => ({ ...r, choice })),
            <>
              <input
                aria-label="Message limit"
                inputMode="numeric"
                value={rows.amount}
                onChange={(e) => setRows({ amount: e.target.value, choice: "custom" })}
                className={`${controlBaseClass} w-32`}
              />
              messages
            </>,
          )}
        </fieldset>
        <p className="text-xs text-muted">Retention runs about once a minute and deletes in small batches. The change is written to the audit log.</p>
        {problem && (
          <p role="alert" className="text-sm text-danger">
            {problem}
          </p>
        )}
        {save.isError && <ErrorState title="Could not change the retention" error={save.error} />}
      </form>
    </Dialog>
  );
}
