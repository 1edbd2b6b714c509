"use client";

import { Link } from "../ui/link";
import { useState, type FormEvent } from "react";
import { useAuditLog } from "../api/hooks";
import type { AuditEntry, AuditFilter } from "../api/types";
import { Button } from "../ui/button";
import { TextField } from "../ui/field";
import { Panel } from "../ui/panel";
import { EmptyState, ErrorState, LoadingState } from "../ui/states";
import { RelativeTime } from "../ui/time";

// The audit log (GET /api/audit): who did what, when, to which target, newest first. Filters are applied
// on submit (actor and action as prefixes, target exactly); "Load more" follows the keyset cursor.

/** A link to what an entry is about, when the target is something the dashboard shows. */
function TargetLink({ entry }: { entry: AuditEntry }) {
  const text = <span className="font-mono text-xs break-all">{entry.target}</span>;
  if (entry.action.startsWith("message.")) return <Link href={`/messages/${encodeURIComponent(entry.target)}`} className="text-accent hover:underline">{text}</Link>;
  if (entry.action.startsWith("topic.") && entry.action !== "topic.delete") {
    return <Link href={`/topics/${encodeURIComponent(entry.target)}`} className="text-accent hover:underline">{text}</Link>;
  }
  return text;
}

function Filters({ onApply }: { onApply: (filter: AuditFilter) => void }) {
  const [actor, setActor] = useState("");
  const [action, setAction] = useState("");
  const [target, setTarget] = useState("");
  function submit(event: FormEvent) {
    event.preventDefault();
    onApply({ actor: actor.trim() || undefined, action: action.trim() || undefined, target: target.trim() || undefined });
  }
  return (
    <form onSubmit={submit} aria-label="Audit filters" className="flex flex-wrap items-end gap-3">
      <TextField label="Actor starts with" name="actor" data-shortcut="filter" aria-keyshortcuts="/" value={actor} onChange={(e) => setActor(e.target.value)} placeholder="admin" />
      <TextField label="Action starts with" name="action" value={action} onChange={(e) => setAction(e.target.value)} placeholder="stall." />
      <TextField label="Target" name="target" value={target} onChange={(e) => setTarget(e.target.value)} placeholder="a message id, topic, stall" />
      <Button type="submit" variant="primary" size="sm">
        Filter
      </Button>
    </form>
  );
}

export function AuditLog() {
  const [filter, setFilter] = useState<AuditFilter>({});
  const log = useAuditLog(filter);
  const entries = log.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div className="flex flex-col gap-4">
      <div>
        <h1 className="text-xl font-semibold">Audit log</h1>
        <p className="text-sm text-muted">Every admin action and every login, newest first.</p>
      </div>
      <Panel title="Filter">
        <Filters onApply={setFilter} />
      </Panel>
      {log.isPending ? (
        <LoadingState label="Loading the audit log…" />
      ) : log.isError ? (
        <ErrorState title="Could not load the audit log" error={log.error} onRetry={() => log.refetch()} />
      ) : entries.length === 0 ? (
        <EmptyState title="No entries">Nothing matches these filters yet.</EmptyState>
      ) : (
        <div className="overflow-x-auto rounded-md border border-line bg-surface">
          <table aria-label="Audit entries" className="w-full text-sm">
            <thead className="bg-subtle text-left text-xs text-muted">
              <tr>
                <th scope="col" className="px-3 py-2 font-medium">When</th>
                <th scope="col" className="px-3 py-2 font-medium">Who</th>
                <th scope="col" className="px-3 py-2 font-medium">What</th>
                <th scope="col" className="px-3 py-2 font-medium">Target</th>
                <th scope="col" className="px-3 py-2 font-medium">Details</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {entries.map((e) => (
                <tr key={e.id} data-testid="audit-row">
                  <td className="px-3 py-1.5 whitespace-nowrap">
                    <RelativeTime iso={e.at} />
                  </td>
                  <td className="px-3 py-1.5 font-mono text-xs">{e.actor}</td>
                  <td className="px-3 py-1.5 font-mono text-xs">{e.action}</td>
                  <td className="px-3 py-1.5">
                    <TargetLink entry={e} />
                  </td>
                  <td className="max-w-md px-3 py-1.5 font-mono text-xs break-all text-muted">
                    {e.details === null ? "" : JSON.stringify(e.details)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {log.hasNextPage && (
        <Button size="sm" onClick={() => log.fetchNextPage()} disabled={log.isFetchingNextPage}>
          {log.isFetchingNextPage ? "Loading…" : "Load more"}
        </Button>
      )}
    </div>
  );
}
