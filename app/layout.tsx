import type { Metadata } from "next";
import { cookies } from "next/headers";
import type { ReactNode } from "react";
import { AppHeader } from "@/components/layout/app-header";
import { KeyboardShortcuts } from "@/components/layout/keyboard-shortcuts";
import { QueryProvider } from "@/components/layout/query-provider";
import { SkipLinks } from "@/components/layout/skip-links";
import { THEME_COOKIE, parseTheme } from "@/components/layout/theme";
import { ToastProvider } from "@/components/ui/toast";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "whisper", template: "%s · whisper" },
  description: "Browse, inspect, replay and resume CloudEvents traffic",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  const theme = parseTheme((await cookies()).get(THEME_COOKIE)?.value);
  return (
    <html lang="en" data-theme={theme === "system" ? undefined : theme}>
      <body className="min-h-screen antialiased">
        <SkipLinks />
        <QueryProvider>
          <ToastProvider>
            <KeyboardShortcuts />
            <AppHeader theme={theme} />
            <main id="main" tabIndex={-1} className="mx-auto max-w-7xl px-4 py-6 focus:outline-none">
              {children}
            </main>
          </ToastProvider>
        </QueryProvider>
      </body>
    </html>
  );
}
