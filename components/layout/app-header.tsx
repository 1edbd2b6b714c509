import { Link } from "../ui/link";
import { LogoutButton } from "./logout-button";
import { NavLink } from "./nav-link";
import { RoleBadge } from "./role-badge";
import { SignedInOnly } from "./signed-in-only";
import type { ThemePreference } from "./theme";
import { ThemeToggle } from "./theme-toggle";

/** The header of every page: the name, the main menu, the role and "Sign out" (the last three not on the login page). */
export function AppHeader({ theme }: { theme: ThemePreference }) {
  return (
    <header className="border-b border-line bg-surface">
      <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-2.5">
        <Link href="/" className="flex items-center gap-2 font-semibold tracking-tight">
          <span aria-hidden className="inline-block size-2.5 rounded-full bg-accent" />
          whisper
        </Link>
        <SignedInOnly>
          <nav id="main-nav" tabIndex={-1} aria-label="Main" className="flex items-center gap-1">
            <NavLink href="/">Topics</NavLink>
            <NavLink href="/search">Search</NavLink>
            <NavLink href="/ordering">Ordering</NavLink>
            <NavLink href="/audit">Audit log</NavLink>
          </nav>
        </SignedInOnly>
        <div className="ml-auto flex items-center gap-2">
          <SignedInOnly>
            <RoleBadge />
          </SignedInOnly>
          <ThemeToggle initial={theme} />
          <SignedInOnly>
            <LogoutButton />
          </SignedInOnly>
        </div>
      </div>
    </header>
  );
}
