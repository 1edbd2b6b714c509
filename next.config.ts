import type { NextConfig } from "next";
import { API_CSP, SECURITY_HEADERS } from "./server/http/headers";

/**
 * Next.js configuration of the dashboard.
 * - distDir: NEXT_DIST_DIR lets two builds of the same tree run side by side (the API tests build into
 *   .next-api, the browser tests into .next);
 * - serverExternalPackages: database and broker clients load from node_modules at run time instead of being
 *   bundled (native-ish modules, dynamic requires, and one copy per process). @whisper/core is the core
 *   package, built and installed into node_modules by scripts/build-core.mjs: every bundle (instrumentation,
 *   routes) shares its one instance, so a Message a route builds is the runtime's Message;
 * - typescript.tsconfigPath: tsconfig.next.json, which leaves out tsconfig.json's path from @whisper/core to the
 *   core's sources (that path is for tsc, tsx and editors; Next must resolve the installed package);
 * - typescript.ignoreBuildErrors: `npm run typecheck` (tsc --noEmit) is the type gate in CI; the build does
 *   not repeat it;
 * - headers(): the security headers of every response (server/http/headers.ts); pages get their CSP, with a
 *   per-request nonce, from proxy.ts, everything else the API's (nothing may load or run).
 */
const config: NextConfig = {
  distDir: process.env.NEXT_DIST_DIR ?? ".next",
  serverExternalPackages: [
    "@whisper/core",
    "pg",
    "@prisma/client",
    "@prisma/adapter-pg",
    "@nats-io/transport-node",
    "@nats-io/jetstream",
    "@nats-io/nuid",
    "cloudevents",
    "ioredis",
    "amqplib",
    "mqtt",
  ],
  typedRoutes: false,
  poweredByHeader: false,
  reactStrictMode: true,
  typescript: { ignoreBuildErrors: true, tsconfigPath: "tsconfig.next.json" },
  async headers() {
    const all = Object.entries(SECURITY_HEADERS).map(([key, value]) => ({ key, value }));
    const csp = [{ key: "Content-Security-Policy", value: API_CSP }];
    return [
      { source: "/:path*", headers: all },
      { source: "/api/:path*", headers: csp },
      { source: "/_next/:path*", headers: csp },
    ];
  },
};

export default config;
