"use client";

import { useState } from "react";
import { useTopics } from "../api/hooks";
import { controlBaseClass } from "../ui/field";
import { formatCount } from "../ui/format";
import { Panel } from "../ui/panel";
import { EmptyState, ErrorState, LoadingState } from "../ui/states";
import { CreateTopicForm } from "./create-topic-form";
import { AdminOnly } from "../layout/admin-only";
import { DemoToggle } from "./demo-toggle";
import { RecordingBanner } from "./recording-banner";
import { TopicsTable } from "./topics-table";

/** The home page: all topics (refreshing every few seconds), narrowed by name, and the create-topic form. */
export function TopicsOverview() {
  const topics = useTopics();
  const [filter, setFilter] = useState("");
  const list = topics.data ?? [];
  const needle = filter.trim().toLowerCase();
  const shown = needle ? list.filter((t) => t.name.toLowerCase().includes(needle)) : list;
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
      <Panel
        title={needle ? `Topics matching “${filter.trim()}” · ${shown.length} of ${list.length}` : "All topics"}
        actions={
          <input
            type="search"
            aria-label="Filter topics by name"
            aria-keyshortcuts="/"
            data-shortcut="filter"
            placeholder="Filter topics… (/)"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
            className={`${controlBaseClass} w-48 py-1 text-xs`}
          />
        }
      >
        {topics.isPending ? (
          <LoadingState label="Loading topics…" />
        ) : topics.isError ? (
          <ErrorState title="Could not load the topics" error={topics.error} onRetry={() => topics.refetch()} />
        ) : list.length === 0 ? (
          <EmptyState title="No topics yet">
            Create one below, start the demo traffic, or start the server with WHISPER_TOPICS.
          </EmptyState>
        ) : shown.length === 0 ? (
          <EmptyState title={`No topic name contains “${filter.trim()}”`} />
        ) : (
          <TopicsTable topics={shown} />
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
