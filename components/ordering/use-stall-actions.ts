"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import { api } from "../api/client";
import { queryKeys } from "../api/keys";
import type { StalledKeySummary } from "../api/types";
import { useToast } from "../ui/toast";
import { describeOutcomeFor, requestFailed, resumeOutcome, type StallOutcome } from "./outcome";

// Resume and Discard of stalled keys, one or all, as the ordering board runs them. Contract:
// - run() calls the API for one entry and resolves with its outcome (never rejects: a failed request is an
//   outcome too); the outcome is kept by stall id, with the entry as it was, until the page is left, so the
//   board can show it at the entry's buttons after the server stopped listing the entry;
// - one() also shows the outcome as a toast; all() runs the entries one after the other (each key is audited
//   on its own, as if pressed one by one), reports progress, toasts one summary and resolves with it;
// - afterwards the board's list, the topics (paused-key counts) and the history are refreshed.

export type Action = "resume" | "discard";
export type KeptOutcome = { entry: StalledKeySummary; outcome: StallOutcome };
export type BulkSummary = { action: Action; keys: number; succeeded: number; messages: number; text: string };

const messages = (n: number) => `${n.toLocaleString("en")} ${n === 1 ? "message" : "messages"}`;

function summarize(action: Action, outcomes: StallOutcome[]): BulkSummary {
  const succeeded = outcomes.filter((o) => o.ok).length;
  const moved = outcomes.reduce((n, o) => n + ("published" in o ? o.published : "discarded" in o ? o.discarded : 0), 0);
  const verb = action === "resume" ? "resumed" : "discarded";
  const what = action === "resume" ? `${messages(moved)} published` : `${messages(moved)} dropped`;
  const keys = outcomes.length;
  const text =
    succeeded === keys
      ? `${action === "resume" ? "Resume" : "Discard"} all: ${keys} ${keys === 1 ? "key" : "keys"} ${verb}, ${what}.`
      : `${action === "resume" ? "Resume" : "Discard"} all: ${succeeded} of ${keys} keys ${verb}, ${what}; ${keys - succeeded} did not (see their cards).`;
  return { action, keys, succeeded, messages: moved, text };
}

export function useStallActions() {
  const client = useQueryClient();
  const toast = useToast();
  const [outcomes, setOutcomes] = useState<Record<string, KeptOutcome>>({});
  const [running, setRunning] = useState<Record<string, Action>>({});

  const refresh = useCallback(() => {
    void client.invalidateQueries({ queryKey: queryKeys.ordering.all });
    void client.invalidateQueries({ queryKey: queryKeys.topics.all });
    void client.invalidateQueries({ queryKey: queryKeys.messages.all });
  }, [client]);

  const run = useCallback(async (entry: StalledKeySummary, action: Action): Promise<StallOutcome> => {
    setRunning((r) => ({ ...r, [entry.id]: action }));
    let outcome: StallOutcome;
    try {
      outcome =
        action === "resume"
          ? resumeOutcome((await api.resumeStall(entry.id)).results, entry.waitingCount)
          : { action: "discard", ok: true, discarded: (await api.discardStall(entry.id)).discarded };
    } catch (error) {
      outcome = requestFailed(action, error);
    }
    setOutcomes((o) => ({ ...o, [entry.id]: { entry, outcome } }));
    setRunning(({ [entry.id]: _done, ...rest }) => rest);
    return outcome;
  }, []);

  const one = useCallback(
    async (entry: StalledKeySummary, action: Action): Promise<StallOutcome> => {
      const outcome = await run(entry, action);
      toast(describeOutcomeFor(entry, outcome), outcome.ok ? "ok" : "danger");
      refresh();
      return outcome;
    },
    [run, toast, refresh],
  );

  const all = useCallback(
    async (entries: readonly StalledKeySummary[], action: Action, progress: (done: number) => void): Promise<BulkSummary> => {
      const done: StallOutcome[] = [];
      for (const entry of entries) {
        done.push(await run(entry, action));
        progress(done.length);
      }
      const summary = summarize(action, done);
      toast(summary.text, summary.succeeded === summary.keys ? "ok" : "danger");
      refresh();
      return summary;
    },
    [run, toast, refresh],
  );

  return { outcomes, running, one, all };
}
