"use client";

import { Link } from "../ui/link";
import { useState } from "react";
import { useReplay, useTopics } from "../api/hooks";
import type { MessageDetail } from "../api/types";
import { Button } from "../ui/button";
import { Dialog } from "../ui/dialog";
import { SelectField } from "../ui/field";
import { ErrorState } from "../ui/states";

// Confirms a replay (POST /api/messages/{id}/replay). The operator picks the target topic (default: the
// message's own) and the id policy: a new id with `replayof` = the original id (default), or the original
// id kept. On success the dialog shows where the copy went and links to it.

type IdPolicy = "new" | "keep";

export function ReplayDialog({ message, open, onClose }: { message: MessageDetail; open: boolean; onClose: () => void }) {
  const topics = useTopics();
  const replay = useReplay(message.id);
  const [target, setTarget] = useState(message.topic);
  const [policy, setPolicy] = useState<IdPolicy>("new");

  const names = topics.data?.map((t) => t.name) ?? [];
  const options = names.includes(message.topic) ? names : [message.topic, ...names];
  const sameTopicKeepId = policy === "keep" && target === message.topic;

  function close() {
    replay.reset();
    setTarget(message.topic);
    setPolicy("new");
    onClose();
  }

  function confirm() {
    replay.mutate({ topic: target, keepId: policy === "keep" });
  }

  const done = replay.isSuccess;

  return (
    <Dialog
      open={open}
      onClose={close}
      title="Replay message"
      footer={
        done ? (
          <Button variant="primary" onClick={close} data-autofocus>
            Close
          </Button>
        ) : (
          <>
            <Button onClick={close}>Cancel</Button>
            <Button variant="primary" onClick={confirm} disabled={replay.isPending}>
              {replay.isPending ? "Replaying…" : "Replay"}
            </Button>
          </>
        )
      }
    >
      {done ? (
        <div role="status" className="flex flex-col gap-2 text-sm">
          <p>
            Published to <strong>{replay.data.topic}</strong> as{" "}
            <span className="font-mono" data-testid="replay-new-id">
              {replay.data.id}
            </span>
            .
          </p>
          <p>
            <Link href={`/messages/${encodeURIComponent(replay.data.id)}`} className="text-accent underline">
              Open the copy
            </Link>
            {" · "}
            <Link href={`/topics/${encodeURIComponent(replay.data.topic)}`} className="text-accent underline">
              Open topic {replay.data.topic}
            </Link>
          </p>
        </div>
      ) : (
        <div className="flex flex-col gap-4">
          <p className="text-sm">
            Publish message <span className="font-mono break-all">{message.id}</span> again through the core. The replay is
            written to the audit log.
          </p>
          <SelectField label="Target topic" value={target} onChange={(e) => setTarget(e.target.value)} data-autofocus>
            {options.map((name) => (
              <option key={name} value={name}>
                {name}
                {name === message.topic ? " (original)" : ""}
              </option>
            ))}
          </SelectField>
          <fieldset className="flex flex-col gap-2">
            <legend className="mb-1 text-xs font-medium text-muted">Id policy</legend>
            <label className="flex items-start gap-2 text-sm">
              <input
                type="radio"
                name="id-policy"
                value="new"
                checked={policy === "new"}
                onChange={() => setPolicy("new")}
                className="mt-0.5 accent-[var(--color-accent)]"
              />
              <span>
                New id, with extension <code className="font-mono">replayof={message.id}</code>
              </span>
            </label>
            <label className="flex items-start gap-2 text-sm">
              <input
                type="radio"
                name="id-policy"
                value="keep"
                checked={policy === "keep"}
                onChange={() => setPolicy("keep")}
                className="mt-0.5 accent-[var(--color-accent)]"
              />
              <span>Keep the original id</span>
            </label>
          </fieldset>
          {sameTopicKeepId && (
            <p className="rounded-md bg-warn-soft px-3 py-2 text-xs text-warn">
              Same topic and same id: subscribers that deduplicate by id will skip it, and the history already has this id, so
              no new row appears.
            </p>
          )}
          {replay.isError && <ErrorState title="Replay failed" error={replay.error} />}
        </div>
      )}
    </Dialog>
  );
}
