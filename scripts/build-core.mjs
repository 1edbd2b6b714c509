/**
 * Builds the core package (server/whisper → server/whisper/dist) and installs the built package into
 * node_modules/@whisper/core as a real folder, laid out as `npm install` of its tarball would (package.json,
 * README.md, dist/). The dashboard loads it from there at run time as an external package: Turbopack bundles a
 * symlinked workspace package as app code (vercel/next.js#84388), which would give each server bundle its own
 * copy of the core. Every path that runs `next build` (npm start, npm run build, the API and browser tests)
 * calls this first; it does nothing when the installed copy is newer than every source of the core.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, lstatSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { newestMtime } from "./build-freshness.mjs";

const STAMP = ".whisper-core-built";

/** Builds and installs the core unless the installed copy is fresh; throws with tsc's output on failure. */
export function buildCore(root) {
  const source = path.join(root, "server/whisper");
  const installed = path.join(root, "node_modules/@whisper/core");
  const stamp = path.join(installed, STAMP);
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= newestMtime(root, ["server/whisper"])) return;

  const tsc = path.join(root, "node_modules/typescript/bin/tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", path.join(source, "tsconfig.build.json")], { cwd: root, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`building @whisper/core failed:\n${result.stdout}${result.stderr}`);

  // npm links the workspace (a symlink to server/whisper); replace the link, never follow it.
  if (existsSync(installed) || isLink(installed)) rmSync(installed, { recursive: true, force: true });
  mkdirSync(installed, { recursive: true });
  for (const file of ["package.json", "README.md"]) cpSync(path.join(source, file), path.join(installed, file));
  cpSync(path.join(source, "dist"), path.join(installed, "dist"), {
    recursive: true,
    filter: (from) => !from.endsWith(".tsbuildinfo"),
  });
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

function isLink(p) {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) buildCore(path.resolve(import.meta.dirname, ".."));
