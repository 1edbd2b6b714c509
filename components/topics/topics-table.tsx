import Link from "next/link";
import type { TopicSummary } from "../api/types";
import { Badge } from "../ui/badge";
import { formatCount, formatRate } from "../ui/format";
import { RelativeTime } from "../ui/time";
import { Sparkline } from "./sparkline";

/** Every topic with its counts; the name opens the topic page, the paused-keys badge the ordering board. */
export function TopicsTable({ topics }: { topics: TopicSummary[] }) {
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm">
        <thead className="text-xs text-muted">
          <tr className="border-b border-line">
            <th scope="col" className="py-2 pr-4 font-medium">Topic</th>
            <th scope="col" className="py-2 pr-4 text-right font-medium">Messages</th>
            <th scope="col" className="py-2 pr-4 text-right font-medium">Rate /min</th>
            <th scope="col" className="py-2 pr-4 font-medium">Last 30 min</th>
            <th scope="col" className="py-2 pr-4 font-medium">Last message</th>
            <th scope="col" className="py-2 pr-4 text-right font-medium">Subscriptions</th>
            <th scope="col" className="py-2 font-medium">Ordering</th>
          </tr>
        </thead>
        <tbody>
          {topics.map((t) => (
            <tr key={t.name} className="border-b border-line last:border-0" data-testid="topic-row">
              <th scope="row" className="py-2.5 pr-4 font-normal">
                <div className="flex flex-wrap items-center gap-2">
                  <Link href={`/topics/${encodeURIComponent(t.name)}`} className="font-medium text-accent hover:underline">
                    {t.name}
                  </Link>
                  {t.failing && <Badge tone="danger">failing on purpose</Badge>}
                </div>
                <div className="mt-0.5 max-w-72 truncate font-mono text-xs text-muted" title={t.url}>
                  {t.url}
                </div>
              </th>
              <td className="py-2.5 pr-4 text-right tabular-nums">{formatCount(t.messageCount)}</td>
              <td className="py-2.5 pr-4 text-right tabular-nums">{formatRate(t.ratePerMinute)}</td>
              <td className="py-2.5 pr-4">
                <Sparkline values={t.sparkline} label={`${t.name} messages per minute`} />
              </td>
              <td className="py-2.5 pr-4 text-muted">
                {t.lastMessageAt ? <RelativeTime iso={t.lastMessageAt} /> : "never"}
              </td>
              <td className="py-2.5 pr-4 text-right tabular-nums" title={t.subscriptions.join(", ") || undefined}>
                {t.subscriptions.length}
              </td>
              <td className="py-2.5">
                <div className="flex flex-wrap items-center gap-2">
                  {t.ordering ? <Badge tone="accent">ordered</Badge> : <span className="text-xs text-muted">unordered</span>}
                  {t.pausedKeys > 0 && (
                    <Link
                      href={`/ordering?topic=${encodeURIComponent(t.name)}`}
                      className="rounded-full"
                      aria-label={`${t.pausedKeys} paused ordering ${t.pausedKeys === 1 ? "key" : "keys"} on ${t.name}: open the ordering board`}
                    >
                      <Badge tone="warn">
                        {t.pausedKeys} paused {t.pausedKeys === 1 ? "key" : "keys"}
                      </Badge>
                    </Link>
                  )}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
