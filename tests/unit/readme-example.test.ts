import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");

describe("the core's README quickstart", () => {
  it("shows examples/quickstart.ts verbatim, and that file runs as written", () => {
    const example = readFileSync(path.join(root, "examples/quickstart.ts"), "utf8").trim();
    const readme = readFileSync(path.join(root, "server/whisper/README.md"), "utf8");
    expect(readme).toContain(example);
    const output = execFileSync(path.join(root, "node_modules/.bin/tsx"), ["examples/quickstart.ts"], {
      cwd: root,
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(output.match(/^received order\.created \{"n":\d\} key=customer-42 attempt=1$/gm)).toEqual([
      'received order.created {"n":1} key=customer-42 attempt=1',
      'received order.created {"n":2} key=customer-42 attempt=1',
      'received order.created {"n":3} key=customer-42 attempt=1',
    ]);
    expect(output).toMatch(/published: 3/);
  });
});
