import type { StalledKeySummary, StalledMessage } from "../api/types";
import { Badge, type BadgeTone } from "../ui/badge";

const tones: Record<StalledKeySummary["status"] | StalledMessage["status"], BadgeTone> = {
  stalled: "warn",
  resumed: "ok",
  published: "ok",
  discarded: "neutral",
  failed: "danger",
};

export function StatusBadge({ status }: { status: StalledKeySummary["status"] | StalledMessage["status"] }) {
  return <Badge tone={tones[status]}>{status}</Badge>;
}
