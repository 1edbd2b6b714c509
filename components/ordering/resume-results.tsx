import type { ResendResult } from "../api/types";
import { MessageIdLink } from "../topic/message-id-link";
import { StatusBadge } from "./status-badge";

/** The per-message answer of a Resume, in resend order. */
export function ResumeResults({ results }: { results: ResendResult[] }) {
  const published = results.filter((r) => r.status === "published").length;
  const sorted = [...results].sort((a, b) => a.seq - b.seq);
  return (
    <div role="status" className="rounded-md border border-line bg-subtle p-3">
      <p className="mb-2 text-sm font-medium">
        Resume: {published} of {results.length} {results.length === 1 ? "message" : "messages"} published
      </p>
      <ol aria-label="Resume results" className="flex flex-col gap-1 text-sm">
        {sorted.map((r) => (
          <li key={`${r.seq}-${r.id}`} data-testid="resume-result" className="flex flex-wrap items-center gap-2">
            <span className="w-8 text-right font-mono text-xs text-muted tabular-nums">#{r.seq}</span>
            <StatusBadge status={r.status} />
            <MessageIdLink id={r.id} />
            {r.error && <span className="text-danger">{r.error}</span>}
          </li>
        ))}
      </ol>
    </div>
  );
}
