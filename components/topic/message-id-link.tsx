import { Link } from "../ui/link";
import { cx } from "../ui/cx";

/**
 * A message id as a link to its inspector, in monospace, truncated with the full id as tooltip. Never
 * prefetched: these links come by the hundred (live tail, history, stalled keys) and a prefetch per link in
 * view is a request per message; the inspector loads on click. `tabIndex={-1}` takes it out of the Tab order
 * (the live tail does while it scrolls).
 */
export function MessageIdLink({ id, className, tabIndex }: { id: string; className?: string; tabIndex?: number }) {
  return (
    <Link
      href={`/messages/${encodeURIComponent(id)}`}
     
      title={id}
      tabIndex={tabIndex}
      className={cx("truncate font-mono text-xs text-accent hover:underline", className)}
    >
      {id}
    </Link>
  );
}
