"use client";

import { useState } from "react";
import { useMessage } from "../api/hooks";
import { errorMessage } from "../api/errors";
import { Button } from "../ui/button";
import { ReplayDialog } from "../message/replay-dialog";

/**
 * "Replay…" for a message known by its id (a history row): loads the message, then opens the replay dialog of the
 * message page (target topic, id policy, confirm). Admins only; the caller wraps it in AdminOnly.
 */
export function ReplayButton({ id, label = "Replay…", compact = false, tabIndex }: { id: string; label?: string; compact?: boolean; tabIndex?: number }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button
        size="sm"
        variant={compact ? "ghost" : "secondary"}
        tabIndex={tabIndex}
        aria-label={compact ? `Replay ${id}` : undefined}
        onClick={() => setOpen(true)}
      >
        {label}
      </Button>
      {open && <LoadedReplayDialog id={id} onClose={() => setOpen(false)} />}
    </>
  );
}

function LoadedReplayDialog({ id, onClose }: { id: string; onClose: () => void }) {
  const message = useMessage(id);
  if (message.isError) {
    return (
      <span role="alert" className="text-xs text-danger">
        {errorMessage(message.error)}
      </span>
    );
  }
  return message.data ? <ReplayDialog message={message.data} open onClose={onClose} /> : null;
}
