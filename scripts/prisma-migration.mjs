#!/usr/bin/env node
/**
 * `npm run db:migrate:dev -- <name>`: the offline stand-in for `prisma migrate dev --name <name>`.
 *
 * Why: with the Wasm schema engine (Prisma 6.19.3, engine "js"), `migrate dev` fails as soon as migrations
 * exist ("PostgreSQL shadow DB must be provided through an external factory", raised by EvaluateDataLoss),
 * while `migrate diff --from-migrations` does use the adapter's shadow database. So this script:
 *  1. diffs prisma/migrations (replayed on a throwaway shadow database) against prisma/schema.prisma;
 *  2. writes the SQL, if any, to prisma/migrations/<UTC yyyymmddhhmmss>_<name>/migration.sql;
 *  3. applies pending migrations to DATABASE_URL (`migrate deploy`) and regenerates the client.
 * Review the generated SQL before committing it, as with `migrate dev`. Needs DATABASE_URL (any database the
 * user may CREATE DATABASE from, for the shadow). Exits non-zero on any failure.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "scripts", "prisma-cli.mjs");
const name = (process.argv[2] ?? "").trim();
if (!/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: npm run db:migrate:dev -- <name>   (lower-case letters, digits and _)");
  process.exit(2);
}
if (!process.env.DATABASE_URL) {
  console.error("DATABASE_URL is not set");
  process.exit(2);
}

function prisma(args, capture) {
  const result = spawnSync(process.execPath, [cli, ...args], {
    cwd: root,
    env: process.env,
    encoding: "utf8",
    stdio: capture ? ["ignore", "pipe", "inherit"] : "inherit",
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
  return result.stdout ?? "";
}

const sql = prisma(
  ["migrate", "diff", "--from-migrations", "prisma/migrations", "--to-schema-datamodel", "prisma/schema.prisma", "--script"],
  true,
);
const body = sql.replace(/^Loaded Prisma config.*\n/m, "").trim();
if (body === "" || body === "-- This is an empty migration.") {
  console.log("schema.prisma matches prisma/migrations: no new migration");
} else {
  const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const dir = path.join(root, "prisma", "migrations", `${stamp}_${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "migration.sql"), `${body}\n`);
  console.log(`wrote ${path.relative(root, dir)}/migration.sql`);
}
prisma(["migrate", "deploy"], false);
prisma(["generate"], false);
