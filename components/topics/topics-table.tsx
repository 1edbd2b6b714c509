import { Link } from "../ui/link";
import type { TopicSummary } from "../api/types";
import { Badge } from "../ui/badge";
import { cx } from "../ui/cx";
import { formatCount, formatRate } from "../ui/format";
import { RelativeTime } from "../ui/time";
import { Sparkline } from "./sparkline";

// Every topic with its counts; the name opens the topic page, the paused-keys badge the ordering board.
// Layout contract:
// - from lg up, a table with fixed column widths (table-fixed + colgroup): a badge appearing, or a
//   "last message" text growing, changes a cell's content, never the columns;
// - below lg, each row is a card: name and the ordering badges (paused keys first, so the way to the
//   ordering board is never off-screen), then the figures with their labels; nothing scrolls sideways.

const cell = "block lg:order-none lg:table-cell lg:py-2.5 lg:pr-4 lg:align-middle";
/** A figure's cell labelled by its `data-label` where the table header is not shown (narrow screens); CSS text, not content. */
const labelled = "before:mr-1 before:text-xs before:text-muted before:content-[attr(data-label)] lg:before:content-none";

export function TopicsTable({ topics }: { topics: TopicSummary[] }) {
  return (
    <table className="block w-full text-left text-sm lg:table lg:table-fixed">
      <colgroup>
        <col />
        <col className="w-24" />
        <col className="w-20" />
        <col className="w-32" />
        <col className="w-28" />
        <col className="w-28" />
        <col className="w-56" />
      </colgroup>
      <thead className="sr-only text-xs text-muted lg:not-sr-only lg:table-header-group">
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
      <tbody className="block lg:table-row-group">
        {topics.map((t) => (
          <tr
            key={t.name}
            data-testid="topic-row"
            className="grid grid-cols-2 gap-x-4 gap-y-1.5 border-b border-line py-3 last:border-0 lg:table-row lg:py-0"
          >
            <th scope="row" className={cx(cell, "order-1 col-span-2 min-w-0 font-normal")}>
              <div className="flex flex-wrap items-center gap-2">
                <Link href={`/topics/${encodeURIComponent(t.name)}`} className="min-w-0 font-medium break-all text-accent hover:underline">
                  {t.name}
                </Link>
                {t.failing && <Badge tone="danger">failing on purpose</Badge>}
              </div>
              <div className="mt-0.5 truncate font-mono text-xs text-muted" title={t.url}>
                {t.url}
              </div>
            </th>
            <td data-label="Messages" className={cx(cell, labelled, "order-3 tabular-nums lg:text-right")}>
              {formatCount(t.messageCount)}
            </td>
            <td data-label="Rate /min" className={cx(cell, labelled, "order-3 tabular-nums lg:text-right")}>
              {formatRate(t.ratePerMinute)}
            </td>
            <td className={cx(cell, "order-5")}>
              <Sparkline values={t.sparkline} label={`${t.name} messages per minute`} />
            </td>
            <td data-label="Last message" className={cx(cell, labelled, "order-4 col-span-2 truncate text-muted lg:col-span-1")}>
              {t.lastMessageAt ? <RelativeTime iso={t.lastMessageAt} /> : "never"}
            </td>
            <td data-label="Subscriptions" className={cx(cell, labelled, "order-5 tabular-nums lg:text-right")} title={t.subscriptions.join(", ") || undefined}>
              {t.subscriptions.length}
            </td>
            <td className={cx(cell, "order-2 col-span-2 lg:py-2.5")}>
              <div className="flex flex-wrap items-center gap-2">
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
                {t.ordering ? <Badge tone="accent">ordered</Badge> : <span className="text-xs text-muted">unordered</span>}
              </div>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
