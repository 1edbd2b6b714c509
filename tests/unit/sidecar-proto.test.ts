import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The sidecar's generated code (server/sidecar/gen, committed so a fresh clone needs only `npm ci`) is what
 * `npm run proto` makes from proto/: buf (the CLI shipped in npm as @bufbuild/buf) runs protoc-gen-es from
 * node_modules into a temporary directory, offline, and every file must be byte for byte the committed one.
 */
const ROOT = path.resolve(import.meta.dirname, "../..");
const GEN = path.join(ROOT, "server/sidecar/gen");
const BUF = path.join(ROOT, "node_modules/.bin/buf");

function files(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full, base) : [path.relative(base, full)];
  });
}

describe("sidecar protobuf code", () => {
  it("matches proto/ (regenerated with buf and protoc-gen-es)", () => {
    const out = mkdtempSync(path.join(tmpdir(), "whisper-proto-"));
    try {
      const template = JSON.stringify({
        version: "v2",
        plugins: [{ local: path.join(ROOT, "node_modules/.bin/protoc-gen-es"), out, opt: ["target=ts", "import_extension=none"] }],
      });
      execFileSync(BUF, ["generate", "proto", "--template", template], { cwd: ROOT, stdio: "pipe" });
      const fresh = files(out).sort();
      expect(fresh).toEqual(files(GEN).sort());
      for (const file of fresh) {
        expect([file, readFileSync(path.join(out, file), "utf8")]).toEqual([file, readFileSync(path.join(GEN, file), "utf8")]);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 90_000);

  it("passes buf lint (the whisper.v1 service)", () => {
    expect(() => execFileSync(BUF, ["lint"], { cwd: ROOT, stdio: "pipe" })).not.toThrow();
  }, 60_000);
});
