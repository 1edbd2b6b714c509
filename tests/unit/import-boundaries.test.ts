import path from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

/** The import direction the lint enforces, proved on code that breaks it (files that do not exist on disk). */
const eslint = new ESLint({ cwd: path.resolve(import.meta.dirname, "..", "..") });

async function messagesFor(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.resolve(import.meta.dirname, "..", "..", file) });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe("import boundaries", () => {
  it("keep the core portable: server/whisper may not import app code", async () => {
    const messages = await messagesFor("server/whisper/boundary-probe.ts", 'import { db } from "@/server/db";\nexport const probe = db;\n');
    expect(messages.join("\n")).toMatch(/portable core/);
  });

  it("keep HTTP on top: runtime, services and history may not import server/http", async () => {
    for (const dir of ["server/runtime", "server/services", "server/history"]) {
      const messages = await messagesFor(`${dir}/boundary-probe.ts`, 'import { badRequest } from "@/server/http/problem";\nexport const probe = badRequest;\n');
      expect(messages.join("\n"), dir).toMatch(/must not import server\/http/);
    }
  });

  it("let the web layer use the runtime", async () => {
    const messages = await messagesFor("server/http/boundary-probe.ts", 'import { getRuntime } from "@/server/runtime";\nexport const probe = getRuntime;\n');
    expect(messages.filter((m) => m.includes("no-restricted-paths"))).toEqual([]);
  });
});
