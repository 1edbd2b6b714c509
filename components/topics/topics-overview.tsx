"use client";

import { useTopics } from "../api/hooks";
import { formatCount } from "../ui/format";
import { Panel } from "../ui/panel";
import { EmptyState, ErrorState, LoadingState } from "../ui/states";
import { CreateTopicForm } from "./create-topic-form";
import { AdminOnly } from "../layout/admin-only";
import { DemoToggle } from "./demo-toggle";
import { RecordingBanner } from "./recording-banner";
import { TopicsTable } from "./topics-table";

/** The home page: all topics (refreshing every few seconds) and the create-topic form. */
export function TopicsOverview() {
  const topics = useTopics();
  const list = topics.data ?? [];
  const total = list.reduce((n, t) => n + t.messageCount, 0);
  const paused = list.reduce((n, t) => n + t.pausedKeys, 0);

  return (
    <div className="flex flex-col gap-6">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-xl font-semibold">Topics</h1>
          <p className="text-sm text-muted">
            {topics.isSuccess
              ? `${list.length} ${list.length === 1 ? "topic" : "topics"} · ${formatCount(total)} messages recorded · ${paused} paused ordering ${paused === 1 ? "key" : "keys"}`
              : "Every topic this dashboard manages."}
          </p>
        </div>
        <AdminOnly>
          <DemoToggle />
        </AdminOnly>
      </div>
      <RecordingBanner topics={list} linkTopics />
      <Panel title="All topics">
        {topics.isPending ? (
          <LoadingState label="Loading topics…" />
        ) : topics.isError ? (
          <ErrorState title="Could not load the topics" error={topics.error} onRetry={() => topics.refetch()} />
        ) : list.length === 0 ? (
          <EmptyState title="No topics yet">
            Create one below, start the demo traffic, or start the server with WHISPER_TOPICS.
          </EmptyState>
        ) : (
          <TopicsTable topics={list} />
        )}
      </Panel>
      <AdminOnly>
        <Panel title="Create a topic">
          <CreateTopicForm />
        </Panel>
      </AdminOnly>
    </div>
  );
}
