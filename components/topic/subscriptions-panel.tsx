"use client";

import { useState } from "react";
import { useSubscriptions } from "../api/hooks";
import type { SubscriptionInfo } from "../api/types";
import { formatCount } from "../ui/format";
import { Panel } from "../ui/panel";
import { EmptyState, ErrorState, LoadingState } from "../ui/states";

function figure(n: number | null): string {
  return n === null ? "—" : formatCount(n);
}

type Growing = Pick<SubscriptionInfo, "pending" | "ackPending" | "redelivered">;

/** A figure that grew since the previous poll is shown in the warning colour with an arrow (text, not colour alone). */
function Figure({ value, previous }: { value: number | null; previous: number | null | undefined }) {
  const grew = value !== null && previous !== null && previous !== undefined && value > previous;
  return (
    <td className={`py-1.5 pr-3 text-right tabular-nums ${grew ? "font-medium text-warn" : ""}`} data-growing={grew || undefined}>
      {figure(value)}
      {grew && (
        <span aria-label="growing" title="grew since the last refresh">
          {" "}↑
        </span>
      )}
    </td>
  );
}

/** Subscriptions of a topic with what the driver can tell; "—" where it cannot (not every broker counts). */
export function SubscriptionsPanel({ topic }: { topic: string }) {
  const subs = useSubscriptions(topic);
  // The figures of the previous poll, to show which ones grow (a backlog building up); React's pattern for
  // information from previous renders (state adjusted while rendering).
  const [polls, setPolls] = useState<{ current?: SubscriptionInfo[]; previous?: SubscriptionInfo[] }>({});
  if (subs.data !== polls.current) setPolls({ current: subs.data, previous: polls.current });
  const before = (name: string): Growing | undefined => polls.previous?.find((s) => s.name === name);
  return (
    <Panel title="Subscriptions">
      {subs.isPending ? (
        <LoadingState label="Loading subscriptions…" />
      ) : subs.isError ? (
        <ErrorState title="Could not load the subscriptions" error={subs.error} onRetry={() => subs.refetch()} />
      ) : subs.data.length === 0 ? (
        <EmptyState title="No subscriptions" />
      ) : (
        <table className="w-full text-left text-sm">
          <thead className="text-xs text-muted">
            <tr className="border-b border-line">
              <th scope="col" className="py-1.5 pr-3 font-medium">Name</th>
              <th scope="col" className="py-1.5 pr-3 text-right font-medium">Pending</th>
              <th scope="col" className="py-1.5 pr-3 text-right font-medium">Ack pending</th>
              <th scope="col" className="py-1.5 text-right font-medium">Redelivered</th>
            </tr>
          </thead>
          <tbody>
            {subs.data.map((s) => (
              <tr key={s.name} className="border-b border-line last:border-0">
                <th scope="row" className="py-1.5 pr-3 font-mono text-xs font-normal">{s.name}</th>
                <Figure value={s.pending} previous={before(s.name)?.pending} />
                <Figure value={s.ackPending} previous={before(s.name)?.ackPending} />
                <Figure value={s.redelivered} previous={before(s.name)?.redelivered} />
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}
