"use client";

import { useSession } from "../api/hooks";
import { Badge } from "../ui/badge";

/** The signed-in role, shown in the header so a viewer knows why admin controls are absent. */
export function RoleBadge() {
  const session = useSession();
  if (!session.data) return null;
  const viewer = session.data.role === "viewer";
  return (
    <Badge tone={viewer ? "warn" : "neutral"} className="uppercase">
      <span data-testid="role">{session.data.role}</span>
      {viewer ? " · read-only" : ""}
    </Badge>
  );
}
