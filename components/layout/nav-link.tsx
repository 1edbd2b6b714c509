"use client";

import { Link } from "../ui/link";
import { usePathname } from "next/navigation";
import { cx } from "../ui/cx";

/** A header link marked aria-current="page" when its section is open. */
export function NavLink({ href, children }: { href: string; children: string }) {
  const pathname = usePathname() ?? "/";
  const active = href === "/" ? pathname === "/" || pathname.startsWith("/topics") : pathname.startsWith(href);
  return (
    <Link
      href={href}
      aria-current={active ? "page" : undefined}
      className={cx(
        "rounded-md px-2.5 py-1 text-sm",
        active ? "bg-accent-soft font-semibold text-accent" : "text-muted hover:bg-subtle hover:text-ink",
      )}
    >
      {children}
    </Link>
  );
}
