"use client";

import { usePathname } from "next/navigation";
import type { ReactNode } from "react";

/** The login page's path: the one page shown to callers without a session. */
export const LOGIN_PATH = "/login";

/**
 * Renders its children everywhere but on the login page, where nobody is signed in yet: the menu, the role
 * and "Sign out" would be dead ends there (and asking for the session would be a 401).
 */
export function SignedInOnly({ children }: { children: ReactNode }) {
  const pathname = usePathname() ?? "/";
  return pathname === LOGIN_PATH || pathname.startsWith(`${LOGIN_PATH}/`) ? null : children;
}
