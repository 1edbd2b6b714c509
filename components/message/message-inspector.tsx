"use client";

import { Link } from "../ui/link";
import { useState, type ReactNode } from "react";
import { ApiError } from "../api/errors";
import { useMessage } from "../api/hooks";
import type { MessageDetail } from "../api/types";
import { AdminOnly } from "../layout/admin-only";
import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { CopyButton } from "../ui/copy-button";
import { formatBytes, formatDateTime } from "../ui/format";
import { Panel } from "../ui/panel";
import { EmptyState, ErrorState, LoadingState } from "../ui/states";
import { AttributeTable } from "./attribute-table";
import { DataView } from "./data-view";
import { toCurl, toJson } from "./export";
import { ReplayDialog } from "./replay-dialog";

function dash(value: string | null): ReactNode {
  return value === null ? <span className="text-muted">—</span> : value;
}

function attributeRows(m: MessageDetail): [string, ReactNode][] {
  return [
    ["id", <span key="id" className="font-mono">{m.id}</span>],
    ["source", m.source],
    ["type", m.type],
    ["specversion", m.specversion],
    ["time", <time key="time" dateTime={m.time} title={m.time}>{formatDateTime(m.time)}</time>],
    ["subject", dash(m.subject)],
    ["datacontenttype", dash(m.datacontenttype)],
    ["dataschema", dash(m.dataschema)],
  ];
}

function recordRows(m: MessageDetail): [string, ReactNode][] {
  return [
    ["topic", <Link key="topic" href={`/topics/${encodeURIComponent(m.topic)}`} className="text-accent hover:underline">{m.topic}</Link>],
    ["ordering key", dash(m.orderingKey)],
    ["size", formatBytes(m.size)],
    ["received", <time key="received" dateTime={m.receivedAt} title={m.receivedAt}>{formatDateTime(m.receivedAt)}</time>],
    ["broker sequence", dash(m.sequence)],
  ];
}

function Inspector({ message }: { message: MessageDetail }) {
  const [replaying, setReplaying] = useState(false);
  const extensions = Object.entries(message.extensions);

  return (
    <div className="flex flex-col gap-6">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0">
          <nav aria-label="Breadcrumb" className="text-xs text-muted">
            <Link href="/" className="hover:underline">Topics</Link> /{" "}
            <Link href={`/topics/${encodeURIComponent(message.topic)}`} className="hover:underline">{message.topic}</Link> /
          </nav>
          <h1 className="text-xl font-semibold">
            Message <span className="font-mono text-base break-all">{message.id}</span>
          </h1>
          <div className="mt-1 flex flex-wrap items-center gap-2 text-sm text-muted">
            <span>{message.type}</span>
            {message.orderingKey && <Badge>key {message.orderingKey}</Badge>}
            {message.replayOf && (
              <span data-testid="replay-of">
                Replay of{" "}
                <Link href={`/messages/${encodeURIComponent(message.replayOf)}`} className="font-mono text-accent underline">
                  {message.replayOf}
                </Link>
              </span>
            )}
          </div>
        </div>
        <div className="flex flex-wrap items-start gap-2">
          <CopyButton label="Copy as JSON" text={() => toJson(message)} />
          <CopyButton label="Copy as curl" text={() => toCurl(message, window.location.origin)} />
          <AdminOnly>
            <Button variant="primary" size="sm" onClick={() => setReplaying(true)}>
              Replay…
            </Button>
          </AdminOnly>
        </div>
      </div>
      <div className="grid gap-6 lg:grid-cols-2">
        <Panel title="Attributes">
          <AttributeTable label="CloudEvents attributes" rows={attributeRows(message)} />
        </Panel>
        <div className="flex flex-col gap-6">
          <Panel title="Extensions">
            {extensions.length === 0 ? (
              <EmptyState title="No extensions" />
            ) : (
              <AttributeTable label="Extensions" rows={extensions.map(([k, v]) => [k, String(v)])} />
            )}
          </Panel>
          <Panel title="Recorded">
            <AttributeTable label="Recording details" rows={recordRows(message)} />
          </Panel>
        </div>
      </div>
      <Panel title={`Data (${message.data.encoding === "base64" ? "bytes" : message.data.encoding})`}>
        <DataView data={message.data} />
      </Panel>
      <ReplayDialog message={message} open={replaying} onClose={() => setReplaying(false)} />
    </div>
  );
}

const isNotFound = (error: unknown) => error instanceof ApiError && error.status === 404;

/**
 * The message page: loads GET /api/messages/{id}. A 404 shows "not in the history" at once; a message just
 * published may not be recorded yet, so the query keeps asking a few times meanwhile (useMessage) and the
 * page turns into the message if it appears.
 */
export function MessageInspector({ id }: { id: string }) {
  const message = useMessage(id);
  const missing = isNotFound(message.error) || (message.isPending && isNotFound(message.failureReason));
  if (missing) {
    const checking = message.isPending;
    return (
      <EmptyState title={`No message with id “${id}” in the history`}>
        {checking ? (
          <span role="status">It may not be recorded yet; checking again…</span>
        ) : (
          <>
            It may not be recorded yet.{" "}
            <button type="button" className="text-accent underline" onClick={() => message.refetch()}>
              Try again
            </button>
          </>
        )}
      </EmptyState>
    );
  }
  if (message.isPending) return <LoadingState label="Loading message…" />;
  if (message.isError) return <ErrorState title="Could not load the message" error={message.error} onRetry={() => message.refetch()} />;
  return <Inspector message={message.data} />;
}
