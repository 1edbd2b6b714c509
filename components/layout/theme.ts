// The theme preference: "system" follows prefers-color-scheme; "light"/"dark" pin it.
// Stored in the `whisper_theme` cookie so the server renders <html data-theme> right away (no flash);
// app/globals.css maps data-theme to `color-scheme`.

export type ThemePreference = "system" | "light" | "dark";

export const THEME_COOKIE = "whisper_theme";

export function parseTheme(value: string | undefined): ThemePreference {
  return value === "light" || value === "dark" ? value : "system";
}
