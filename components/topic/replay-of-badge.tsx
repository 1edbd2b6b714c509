import Link from "next/link";
import { Badge } from "../ui/badge";

/** Marks a replayed message and links to the original (the `replayof` extension). */
export function ReplayOfBadge({ original }: { original: string }) {
  return (
    <Link href={`/messages/${encodeURIComponent(original)}`} title={`Replay of ${original}`} className="rounded-full">
      <Badge tone="accent">replay of {original.length > 10 ? `${original.slice(0, 8)}…` : original}</Badge>
    </Link>
  );
}
