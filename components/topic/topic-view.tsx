"use client";

import { useQueryClient, type Query } from "@tanstack/react-query";
import { Link } from "../ui/link";
import { useCallback, useEffect, useRef } from "react";
import { useTopics } from "../api/hooks";
import { queryKeys } from "../api/keys";
import type { MessageFilter } from "../api/types";
import { Badge } from "../ui/badge";
import { formatCount, formatRate } from "../ui/format";
import { EmptyState, ErrorState, LoadingState } from "../ui/states";
import { RecordingBanner } from "../topics/recording-banner";
import { AdminOnly } from "../layout/admin-only";
import { HistoryPanel } from "./history-panel";
import { LiveTail } from "./live-tail";
import { PublishForm } from "./publish-form";
import { SubscriptionsPanel } from "./subscriptions-panel";
import { TopicActions } from "./topic-actions";

/** Refreshes this topic's history at most once per interval while live frames arrive. */
const HISTORY_REFRESH_MS = 2_000;

function useHistoryRefresher(topic: string) {
  const client = useQueryClient();
  const timer = useRef<number | null>(null);
  useEffect(() => () => {
    if (timer.current !== null) window.clearTimeout(timer.current);
  }, []);
  return useCallback(() => {
    if (timer.current !== null) return;
    timer.current = window.setTimeout(() => {
      timer.current = null;
      void client.invalidateQueries({
        queryKey: [...queryKeys.messages.all, "browse"],
        predicate: (q: Query) => (q.queryKey[2] as MessageFilter | undefined)?.topic === topic,
      });
      void client.invalidateQueries({ queryKey: queryKeys.topics.all });
    }, HISTORY_REFRESH_MS);
  }, [client, topic]);
}

/** The topic page: header with counts and actions, live tail, subscriptions, publish form, history. */
export function TopicView({ name }: { name: string }) {
  const topics = useTopics();
  const topic = topics.data?.find((t) => t.name === name);
  const refreshHistory = useHistoryRefresher(name);

  if (topics.isPending) return <LoadingState label="Loading topic…" />;
  if (topics.isError) return <ErrorState title="Could not load the topic" error={topics.error} onRetry={() => topics.refetch()} />;
  if (!topic) {
    return (
      <EmptyState title={`No topic named “${name}”`}>
        <Link href="/" className="text-accent underline">
          Back to all topics
        </Link>
      </EmptyState>
    );
  }

  return (
    <div className="flex flex-col gap-6">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0">
          <nav aria-label="Breadcrumb" className="text-xs text-muted">
            <Link href="/" className="hover:underline">
              Topics
            </Link>{" "}
            /
          </nav>
          <h1 className="flex flex-wrap items-center gap-2 text-xl font-semibold">
            {topic.name}
            {topic.ordering && <Badge tone="accent">ordered</Badge>}
            {topic.failing && <Badge tone="danger">failing on purpose</Badge>}
            {topic.pausedKeys > 0 && (
              <Link href={`/ordering?topic=${encodeURIComponent(topic.name)}`} className="rounded-full">
                <Badge tone="warn">
                  {topic.pausedKeys} paused {topic.pausedKeys === 1 ? "key" : "keys"}
                </Badge>
              </Link>
            )}
          </h1>
          <p className="mt-1 font-mono text-xs break-all text-muted">{topic.url}</p>
          <p className="mt-1 text-sm text-muted">
            {formatCount(topic.messageCount)} messages · {formatRate(topic.ratePerMinute)}/min
          </p>
        </div>
        <AdminOnly>
          <TopicActions topic={topic} />
        </AdminOnly>
      </div>
      <RecordingBanner topics={[topic]} />
      <div className="grid gap-6 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <div className="flex min-w-0 flex-col gap-6">
          <LiveTail topic={topic.name} onFrame={refreshHistory} />
          <SubscriptionsPanel topic={topic.name} />
        </div>
        <AdminOnly>
          <PublishForm topic={topic.name} ordered={topic.ordering} />
        </AdminOnly>
      </div>
      <HistoryPanel topic={topic.name} />
    </div>
  );
}
