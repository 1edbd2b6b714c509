"use client";

import { useState } from "react";
import { cx } from "../ui/cx";
import { THEME_COOKIE, type ThemePreference } from "./theme";

const choices: { value: ThemePreference; label: string }[] = [
  { value: "system", label: "Auto" },
  { value: "light", label: "Light" },
  { value: "dark", label: "Dark" },
];

/** Three toggle buttons (aria-pressed); applies the theme at once and remembers it for a year. */
export function ThemeToggle({ initial }: { initial: ThemePreference }) {
  const [theme, setTheme] = useState<ThemePreference>(initial);

  function choose(next: ThemePreference) {
    setTheme(next);
    const root = document.documentElement;
    if (next === "system") root.removeAttribute("data-theme");
    else root.setAttribute("data-theme", next);
    document.cookie = `${THEME_COOKIE}=${next}; path=/; max-age=31536000; samesite=lax`;
  }

  return (
    <div role="group" aria-label="Colour theme" className="flex rounded-md border border-line p-0.5">
      {choices.map((c) => (
        <button
          key={c.value}
          type="button"
          aria-pressed={theme === c.value}
          onClick={() => choose(c.value)}
          className={cx(
            "rounded px-2 py-0.5 text-xs",
            theme === c.value ? "bg-accent text-on-accent" : "text-muted hover:bg-subtle",
          )}
        >
          {c.label}
        </button>
      ))}
    </div>
  );
}
