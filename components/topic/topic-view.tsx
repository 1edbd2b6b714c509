"use client";

import { Link } from "../ui/link";
import { useTopics } from "../api/hooks";
import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { formatCount, formatRate } from "../ui/format";
import { EmptyState, ErrorState, LoadingState } from "../ui/states";
import { RecordingBanner } from "../topics/recording-banner";
import { AdminOnly } from "../layout/admin-only";
import { HistoryPanel } from "./history-panel";
import { SidePanel } from "./side-panel";
import { TopicActions } from "./topic-actions";
import { TopicCharts } from "./topic-charts";
import { TopicRetention } from "./topic-retention";
import { useHistoryView } from "./use-history-view";

/**
 * The topic page, history first: the header (counts, retention, actions), then the history (filter, time range,
 * charts, rows) beside a side panel with the live tail, the publish form and the subscriptions (hidden on demand;
 * below the history on narrow screens).
 */
export function TopicView({ name }: { name: string }) {
  const topics = useTopics();
  const topic = topics.data?.find((t) => t.name === name);
  const { view, update } = useHistoryView(name);

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
  const panel = view.panel ?? "live";

  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-start justify-between gap-x-4 gap-y-2">
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
          <p className="mt-0.5 text-sm text-muted">
            {formatCount(topic.messageCount)} messages · {formatRate(topic.ratePerMinute)}/min ·{" "}
            <span className="font-mono text-xs break-all">{topic.url}</span>
          </p>
          <TopicRetention topic={topic} />
        </div>
        <div className="flex flex-col items-end gap-2">
          <AdminOnly>
            <TopicActions topic={topic} />
          </AdminOnly>
          {panel === "none" && (
            <Button size="sm" onClick={() => update({ panel: "live" }, "replace")}>
              Show live tail and tools
            </Button>
          )}
        </div>
      </div>
      <RecordingBanner topics={[topic]} />
      <div className={panel === "none" ? "flex flex-col" : "grid gap-6 xl:grid-cols-[minmax(0,1fr)_22rem]"}>
        <HistoryPanel topic={topic.name} charts={(range) => <TopicCharts topic={topic.name} {...range} />} />
        {panel !== "none" && (
          <aside aria-label="Live tail and tools" className="min-w-0 xl:sticky xl:top-4 xl:max-h-[calc(100vh-2rem)] xl:self-start xl:overflow-y-auto">
            <SidePanel topic={topic} tab={panel} onTab={(tab) => update({ panel: tab }, "replace")} />
          </aside>
        )}
      </div>
    </div>
  );
}
