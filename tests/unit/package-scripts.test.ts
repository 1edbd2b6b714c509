import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const scripts = (JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> })
  .scripts;

describe("package.json scripts", () => {
  it("every script that runs a file with node or tsx names a file that exists", () => {
    const runs = Object.entries(scripts).flatMap(([name, command]) =>
      [...command.matchAll(/\b(?:node|tsx)\s+(?:--\S+\s+)*([\w./-]+\.(?:m?[jt]s|cjs))/g)].map((m) => ({ name, file: m[1]! })),
    );
    expect(runs.length).toBeGreaterThan(0);
    const missing = runs.filter(({ file }) => !existsSync(path.join(root, file)));
    expect(missing).toEqual([]);
  });
});
