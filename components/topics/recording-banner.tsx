"use client";

import { Link } from "../ui/link";
import type { TopicSummary } from "../api/types";

/**
 * A visible warning for every topic whose history is behind or failing (its `recording.reason`), so a stalled
 * recorder is never silent. Renders nothing while every topic keeps up. With `linkTopics`, each line links to
 * its topic page.
 */
export function RecordingBanner({ topics, linkTopics = false }: { topics: readonly TopicSummary[]; linkTopics?: boolean }) {
  const lagging = topics.filter((t) => t.recording && t.recording.state !== "ok");
  if (lagging.length === 0) return null;
  const failing = lagging.some((t) => t.recording!.state === "failing");
  return (
    <div
      role="alert"
      data-testid="recording-banner"
      className={`rounded-md border px-4 py-3 text-sm ${failing ? "border-danger bg-danger-soft text-danger" : "border-warn bg-warn-soft text-warn"}`}
    >
      <p className="font-medium">History is not keeping up with the traffic</p>
      <ul className="mt-1 list-disc pl-5">
        {lagging.map((t) => (
          <li key={t.name} className="break-words">
            {linkTopics ? (
              <Link href={`/topics/${encodeURIComponent(t.name)}`} className="underline">
                {t.recording!.reason}
              </Link>
            ) : (
              t.recording!.reason
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
