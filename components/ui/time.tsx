import { formatDateTime, timeAgo } from "./format";

/** A <time> showing relative time, with the full local date as its tooltip. */
export function RelativeTime({ iso, className }: { iso: string; className?: string }) {
  return (
    <time dateTime={iso} title={formatDateTime(iso)} className={className}>
      {timeAgo(iso)}
    </time>
  );
}
