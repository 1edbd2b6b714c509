"use client";

import type { ReactNode } from "react";
import { useCanAdmin } from "../api/hooks";

/**
 * Renders admin controls only for an admin session; viewers get `fallback` (default: nothing). The server
 * refuses viewers every admin action regardless (403); this keeps the page from offering what would fail.
 */
export function AdminOnly({ children, fallback = null }: { children: ReactNode; fallback?: ReactNode }) {
  return useCanAdmin() ? children : fallback;
}
