import { defineConfig } from "vitest/config";
import path from "node:path";

/** Test projects: unit (no services), conformance (every driver, real servers), integration (Postgres, NATS, app). */
export default defineConfig({
  // `@whisper/core` resolves to the core's sources (as tsconfig's paths do for tsc and tsx), so tests
  // never run a stale dist/ and a test importing internals shares one module graph with the public API.
  resolve: {
    alias: [
      { find: /^@whisper\/core$/, replacement: path.resolve(import.meta.dirname, "server/whisper/index.ts") },
      { find: /^@\//, replacement: `${path.resolve(import.meta.dirname)}/` },
    ],
  },
  test: {
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["tests/unit/**/*.test.ts"], testTimeout: 20_000 },
      },
      {
        extends: true,
        test: {
          name: "conformance",
          include: ["tests/conformance/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // Integration tests share Postgres/NATS and start their own servers; run files one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
