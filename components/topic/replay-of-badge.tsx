import { Link } from "../ui/link";
import { Badge } from "../ui/badge";

/** Marks a replayed message and links to the original (the `replayof` extension); never prefetched, like MessageIdLink. */
export function ReplayOfBadge({ original, tabIndex }: { original: string; tabIndex?: number }) {
  return (
    <Link href={`/messages/${encodeURIComponent(original)}`} tabIndex={tabIndex} title={`Replay of ${original}`} className="rounded-full">
      <Badge tone="accent">replay of {original.length > 10 ? `${original.slice(0, 8)}…` : original}</Badge>
    </Link>
  );
}
