/**
 * Whether a Next production build in `distDir` is newer than every file it is built from. One definition,
 * used by `npm start` and by the tests that build the app, so none of them rebuilds what another just built.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

export const BUILD_SOURCES = [
  "app",
  "components",
  "server",
  "prisma/schema.prisma",
  "instrumentation.ts",
  "next.config.ts",
  "postcss.config.mjs",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
];

/** Folders that are build outputs or installed code, not sources (dist: the core package's build). */
const SKIPPED = new Set(["node_modules", "generated", "dist"]);

/** The newest modification time (ms) under `paths` (files or folders, relative to `root`). */
export function newestMtime(root, paths = BUILD_SOURCES) {
  let newest = 0;
  const visit = (p) => {
    if (!existsSync(p)) return;
    const stat = statSync(p);
    if (!stat.isDirectory()) {
      newest = Math.max(newest, stat.mtimeMs);
      return;
    }
    for (const entry of readdirSync(p)) {
      if (!SKIPPED.has(entry) && !entry.startsWith(".")) visit(path.join(p, entry));
    }
  };
  for (const p of paths) visit(path.join(root, p));
  return newest;
}

/** True when `<root>/<distDir>/BUILD_ID` exists and is newer than every build source. */
export function buildIsFresh(root, distDir) {
  const buildId = path.join(root, distDir, "BUILD_ID");
  return existsSync(buildId) && statSync(buildId).mtimeMs >= newestMtime(root);
}
