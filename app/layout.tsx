import type { Metadata } from "next";
import { cookies } from "next/headers";
import type { ReactNode } from "react";
import { AppHeader } from "@/components/layout/app-header";
import { QueryProvider } from "@/components/layout/query-provider";
import { THEME_COOKIE, parseTheme } from "@/components/layout/theme";
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
        <a
          href="#main"
          className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-surface focus:px-3 focus:py-1"
        >
          Skip to content
        </a>
        <QueryProvider>
          <AppHeader theme={theme} />
          <main id="main" className="mx-auto max-w-7xl px-4 py-6">
            {children}
          </main>
        </QueryProvider>
      </body>
    </html>
  );
}
