"use client";

import { useSubscriptions } from "../api/hooks";
import { formatCount } from "../ui/format";
import { Panel } from "../ui/panel";
import { EmptyState, ErrorState, LoadingState } from "../ui/states";

function figure(n: number | null): string {
  return n === null ? "—" : formatCount(n);
}

/** Subscriptions of a topic with what the driver can tell; "—" where it cannot (not every broker counts). */
export function SubscriptionsPanel({ topic }: { topic: string }) {
  const subs = useSubscriptions(topic);
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
                <td className="py-1.5 pr-3 text-right tabular-nums">{figure(s.pending)}</td>
                <td className="py-1.5 pr-3 text-right tabular-nums">{figure(s.ackPending)}</td>
                <td className="py-1.5 text-right tabular-nums">{figure(s.redelivered)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}
