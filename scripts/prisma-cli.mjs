#!/usr/bin/env node
/**
 * Runs the Prisma CLI the way this project needs it offline (see prisma.config.ts):
 *   node scripts/prisma-cli.mjs <prisma args…>     e.g. `generate`, `migrate deploy`, `migrate dev --name x`
 * - preloads scripts/prisma-unref.cjs so the CLI exits as soon as it is done;
 * - disables the update check (no network);
 * - for `generate` only, supplies a placeholder DATABASE_URL when none is set: the CLI needs one to pick the
 *   Rust-free client instead of downloading a query engine, and generating never connects.
 * Exits with the CLI's exit code.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const cli = path.join(path.dirname(require.resolve("prisma/package.json")), "build", "index.js");
const args = process.argv.slice(2);

const env = { ...process.env, CHECKPOINT_DISABLE: "1", PRISMA_HIDE_UPDATE_MESSAGE: "1" };
if (args[0] === "generate" && !env.DATABASE_URL) env.DATABASE_URL = "postgresql://placeholder@localhost:5432/placeholder";

const preload = path.join(root, "scripts", "prisma-unref.cjs");
const child = spawn(process.execPath, ["--require", preload, cli, ...args], { cwd: root, env, stdio: "inherit" });
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
