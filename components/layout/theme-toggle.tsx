"use client";

import { useState } from "react";
import { Segmented } from "../ui/segmented";
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

  return <Segmented label="Colour theme" options={choices} value={theme} onChange={choose} />;
}
