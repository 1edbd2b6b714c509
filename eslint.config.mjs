import tseslint from "typescript-eslint";
import importPlugin from "eslint-plugin-import";

export default tseslint.config(
  {
    ignores: [
      "node_modules/**",
      ".next*/**",
      ".next*.lock",
      ".whisper/**",
      "server/generated/**",
      "server/whisper/dist/**",
      "server/sidecar/gen/**",
      "test-results/**",
      "playwright-report/**",
      "next-env.d.ts",
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.{ts,tsx,mts,mjs}"],
    plugins: { import: importPlugin },
    settings: {
      "import/resolver": { typescript: { project: "./tsconfig.json" }, node: true },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "error",
      "import/no-cycle": ["error", { maxDepth: 10 }],
      "import/no-restricted-paths": [
        "error",
        {
          zones: [
            {
              // The core is portable: it may import only itself (and npm packages other than app frameworks).
              target: "./server/whisper",
              from: ".",
              except: ["./server/whisper", "./node_modules"],
              message: "server/whisper is the portable core: it must not import app code (app/, components/, server/, prisma/).",
            },
            {
              // The web layer sits on top: the runtime, the services and the recorder know nothing of HTTP.
              target: ["./server/runtime", "./server/services", "./server/history"],
              from: "./server/http",
              message: "server/{runtime,services,history} must not import server/http: throw service errors, the routes map them.",
            },
            {
              // The gRPC sidecar sits on top too, beside the web layer.
              target: ["./server/runtime", "./server/services", "./server/history", "./server/http"],
              from: "./server/sidecar",
              message: "server/sidecar is a door on top of the runtime and services (like server/http): nothing below imports it.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["server/whisper/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["next", "next/*", "react", "react-dom", "react/*"], message: "The core must not depend on Next or React." },
            { group: ["@prisma/*", "prisma", "pg", "pg-*"], message: "The core must not depend on Prisma or Postgres." },
            { group: ["@/*"], message: "The core must not import app code." },
          ],
        },
      ],
    },
  },
);
