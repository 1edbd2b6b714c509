import Link from "next/link";
import { cx } from "../ui/cx";

/** A message id as a link to its inspector, in monospace, truncated with the full id as tooltip. */
export function MessageIdLink({ id, className }: { id: string; className?: string }) {
  return (
    <Link
      href={`/messages/${encodeURIComponent(id)}`}
      title={id}
      className={cx("truncate font-mono text-xs text-accent hover:underline", className)}
    >
      {id}
    </Link>
  );
}
