"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { useDeleteTopic, useSetFailing } from "../api/hooks";
import type { TopicSummary } from "../api/types";
import { Button } from "../ui/button";
import { Dialog } from "../ui/dialog";
import { ErrorState } from "../ui/states";

/**
 * Topic-level actions: "Simulate failures" (POST …/failure; the in-process bus only, for demos and tests:
 * sends fail on purpose so ordering keys stall) and Delete (confirmed in a dialog).
 */
export function TopicActions({ topic }: { topic: TopicSummary }) {
  const router = useRouter();
  const failing = useSetFailing(topic.name);
  const remove = useDeleteTopic();
  const [confirming, setConfirming] = useState(false);
  const closeConfirm = () => {
    setConfirming(false);
    remove.reset();
  };

  return (
    <div className="flex flex-col items-end gap-2">
      <div className="flex flex-wrap items-center gap-2">
        <Button
          size="sm"
          aria-pressed={topic.failing}
          onClick={() => failing.mutate(!topic.failing)}
          disabled={failing.isPending}
          title="In-process bus only: make sends to this topic fail on purpose"
        >
          {topic.failing ? "Stop simulating failures" : "Simulate failures"}
        </Button>
        <Button size="sm" variant="danger" onClick={() => setConfirming(true)}>
          Delete topic
        </Button>
      </div>
      {failing.isError && <ErrorState title="Could not change failure simulation" error={failing.error} />}
      <Dialog
        open={confirming}
        onClose={closeConfirm}
        title={`Delete topic ${topic.name}?`}
        footer={
          <>
            <Button onClick={closeConfirm} data-autofocus>
              Cancel
            </Button>
            <Button
              variant="danger"
              disabled={remove.isPending}
              onClick={() => remove.mutate(topic.name, { onSuccess: () => router.push("/") })}
            >
              {remove.isPending ? "Deleting…" : "Delete"}
            </Button>
          </>
        }
      >
        <p className="text-sm">
          The dashboard stops managing <strong>{topic.name}</strong>. The action is written to the audit log.
        </p>
        {remove.isError && <ErrorState className="mt-3" title="Could not delete the topic" error={remove.error} />}
      </Dialog>
    </div>
  );
}
