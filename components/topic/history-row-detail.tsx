"use client";

import { Link } from "../ui/link";
import { useMessage } from "../api/hooks";
import type { MessageSummary } from "../api/types";
import { AdminOnly } from "../layout/admin-only";
import { DataView } from "../message/data-view";
import { Button } from "../ui/button";
import { CopyButton } from "../ui/copy-button";
import { formatBytes, formatDateTime } from "../ui/format";
import { ErrorState, LoadingState } from "../ui/states";
import { ReplayButton } from "./replay-button";

/**
 * An opened history row: the actions first (Replay…, the message page, a link to this view), then the
 * attributes and the data, loaded by id (GET /api/messages/{id}).
 */
export function HistoryRowDetail({ summary, onClose }: { summary: MessageSummary; onClose: () => void }) {
  const detail = useMessage(summary.id);
  const attributes: [string, string | null][] = [
    ["Source", summary.source],
    ["Subject", summary.subject],
    ["Ordering key", summary.orderingKey],
    ["Time (attribute)", summary.time],
    ["Received", formatDateTime(summary.receivedAt)],
    ["Broker sequence", summary.sequence],
    ["Size", formatBytes(summary.size)],
    ["Replay of", summary.replayOf],
    ["Content type", detail.data?.datacontenttype ?? null],
  ];
  return (
    <div className="flex flex-col gap-3" data-testid="history-row-detail">
      <div className="flex flex-wrap items-center gap-2">
        <AdminOnly>
          <ReplayButton id={summary.id} />
        </AdminOnly>
        <Link href={`/messages/${encodeURIComponent(summary.id)}`} className="rounded-md border border-line px-2.5 py-1 text-xs font-medium hover:bg-subtle">
          Open message page
        </Link>
        <CopyButton label="Copy link to this view" text={() => window.location.href} />
        <Button size="sm" variant="ghost" onClick={onClose}>
          Close
        </Button>
      </div>
      <dl className="grid grid-cols-[max-content_minmax(0,1fr)] gap-x-4 gap-y-1 text-xs sm:grid-cols-[max-content_minmax(0,1fr)_max-content_minmax(0,1fr)]">
        {attributes
          .filter(([, value]) => value !== null && value !== "")
          .map(([name, value]) => (
            <div key={name} className="contents">
              <dt className="text-muted">{name}</dt>
              <dd className="font-mono break-all">{value}</dd>
            </div>
          ))}
      </dl>
      {detail.isPending ? (
        <LoadingState label="Loading the data…" />
      ) : detail.isError ? (
        <ErrorState title="Could not load the message" error={detail.error} onRetry={() => detail.refetch()} />
      ) : (
        <DataView data={detail.data.data} />
      )}
    </div>
  );
}
