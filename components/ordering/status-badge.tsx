import type { StalledEntry, StalledMessage } from "../api/types";
import { Badge, type BadgeTone } from "../ui/badge";

const tones: Record<StalledEntry["status"] | StalledMessage["status"], BadgeTone> = {
  stalled: "warn",
  resumed: "ok",
  published: "ok",
  discarded: "neutral",
  failed: "danger",
};

export function StatusBadge({ status }: { status: StalledEntry["status"] | StalledMessage["status"] }) {
  return <Badge tone={tones[status]}>{status}</Badge>;
}
