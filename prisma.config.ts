import { defineConfig } from "prisma/config";
import { migrationAdapter } from "./prisma/migration-adapter";

/**
 * Prisma CLI configuration (Prisma 6.19.3, offline). `engine: "js"` with a driver adapter runs migrations on
 * the Wasm schema engine, so the CLI never downloads an engine binary. The adapter is built only when a
 * command needs the database; DATABASE_URL (optionally `?schema=<name>`) says where.
 * Run the CLI through `npm run db:*` (scripts/prisma-cli.mjs preloads scripts/prisma-unref.cjs so it exits
 * when done). New migrations: `npm run db:migrate:dev -- <name>` (scripts/prisma-migration.mjs), because
 * `prisma migrate dev` on the Wasm engine fails once migrations exist.
 */
export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  async adapter() {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error("DATABASE_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/whisper)");
    return migrationAdapter(url);
  },
});
