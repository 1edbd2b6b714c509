import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCore } from "../../scripts/build-core.mjs";
import { DIST_DIR, ensureBuilt } from "../support/app";
import { TestNatsServer } from "../support/nats-server";

/**
 * The core as a user gets it: `npm pack` of the workspace, installed into a fresh project outside the
 * repository (no workspace, no tsconfig paths, no aliases), where the README's quickstart is type-checked
 * against the published declarations and run with plain Node on the in-process bus, NATS and JetStream.
 */
const exec = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "../..");
const TSC = path.join(ROOT, "node_modules/typescript/bin/tsc");
const TSX = path.join(ROOT, "node_modules/tsx/dist/loader.mjs");
const NATS_VERSION = "3.4.0";
const NODE_TYPES = "20.19.43";

let project: string;
let tarball: string;
let nats: TestNatsServer;

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await exec("npm", [...args, "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], {
    cwd,
    env: cleanEnv(),
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** The environment without the npm_* settings of an enclosing `npm test`, as a user's shell would have it. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith("npm_"))) as NodeJS.ProcessEnv;
}

/** Runs a TypeScript file of the temporary project with Node (+ tsx for type stripping); returns stdout. */
async function runTs(file: string): Promise<string> {
  const { stdout } = await exec(process.execPath, ["--import", TSX, file], { cwd: project, timeout: 60_000 });
  return stdout;
}

const quickstart = () => readFileSync(path.join(ROOT, "examples/quickstart.ts"), "utf8");

function expectQuickstartOutput(output: string) {
  expect(output.match(/^received order\.created \{"n":\d\} key=customer-42 attempt=1$/gm)).toEqual([
    'received order.created {"n":1} key=customer-42 attempt=1',
    'received order.created {"n":2} key=customer-42 attempt=1',
    'received order.created {"n":3} key=customer-42 attempt=1',
  ]);
  expect(output.match(/^published \S+$/gm)).toHaveLength(3);
}

beforeAll(async () => {
  buildCore(ROOT);
  project = mkdtempSync(path.join(tmpdir(), "whisper-consumer-"));
  const packed = JSON.parse(await npm(["pack", "-w", "@whisper/core", "--json", "--pack-destination", project], ROOT)) as {
    filename: string;
    files: { path: string }[];
  }[];
  tarball = path.join(project, packed[0]!.filename);
  writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  await npm(["install", tarball, `@types/node@${NODE_TYPES}`], project);
  nats = await TestNatsServer.start();
}, 300_000);

afterAll(async () => {
  await nats?.stop();
  if (project) rmSync(project, { recursive: true, force: true });
});

describe("@whisper/core installed from its tarball", () => {
  it("ships the built ESM, declarations and README, and no sources or tests", async () => {
    const listing = JSON.parse(await npm(["pack", "-w", "@whisper/core", "--dry-run", "--json", "--ignore-scripts"], ROOT)) as {
      files: { path: string }[];
    }[];
    const files = listing[0]!.files.map((f) => f.path);
    expect(files).toContain("dist/index.js");
    expect(files).toContain("dist/index.d.ts");
    expect(files).toContain("README.md");
    expect(files).toContain("package.json");
    expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    expect(files.filter((f) => f.includes("tsbuildinfo") || f.startsWith("tests/"))).toEqual([]);
    const manifest = JSON.parse(readFileSync(path.join(project, "node_modules/@whisper/core/package.json"), "utf8"));
    expect(manifest.exports["."]).toEqual({ types: "./dist/index.d.ts", default: "./dist/index.js" });
    expect(Object.keys(manifest.peerDependenciesMeta).sort()).toEqual(["@nats-io/jetstream", "@nats-io/transport-node", "amqplib", "ioredis", "mqtt"]);
  });

  it("type-checks the quickstart against the published declarations (NodeNext, strict)", async () => {
    writeFileSync(path.join(project, "quickstart.ts"), quickstart());
    writeFileSync(
      path.join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, types: ["node"] },
        files: ["quickstart.ts"],
      }),
    );
    await expect(exec(process.execPath, [TSC, "-p", "tsconfig.json"], { cwd: project })).resolves.toBeDefined();
  });

  it("runs the quickstart on the in-process bus with no peer dependency installed", async () => {
    writeFileSync(path.join(project, "quickstart.ts"), quickstart());
    expectQuickstartOutput(await runTs("quickstart.ts"));
  });

  it("names the packages to install when a network driver's client library is missing", async () => {
    writeFileSync(
      path.join(project, "missing-peer.ts"),
      `import { openTopic, errorCode } from "@whisper/core";
try { await openTopic("${nats.url}/orders"); console.log("opened"); }
catch (error) { console.log(errorCode(error), (error as Error).message); }
`,
    );
    const output = await runTs("missing-peer.ts");
    expect(output).toMatch(/^ERR_DRIVER_UNAVAILABLE .*npm install @nats-io\/transport-node @nats-io\/jetstream/m);
  });

  it("runs the quickstart on NATS and on JetStream once the peer dependencies are installed", async () => {
    await npm(["install", `@nats-io/transport-node@${NATS_VERSION}`, `@nats-io/jetstream@${NATS_VERSION}`], project);
    const host = nats.url.replace("nats://", "");
    for (const url of [`nats://${host}/orders`, `jetstream://${host}/orders?stream=ORDERS`]) {
      writeFileSync(path.join(project, "quickstart-nats.ts"), quickstart().replaceAll('"eventbus:orders"', JSON.stringify(url)));
      expectQuickstartOutput(await runTs("quickstart-nats.ts"));
    }
  });
});

describe("the dashboard's build", () => {
  it("loads @whisper/core as one external package: no server chunk holds a copy of the core", async () => {
    await ensureBuilt();
    const chunks = readdirSync(path.join(ROOT, DIST_DIR, "server"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js"));
    const withCoreCode = chunks.filter((f) => readFileSync(path.join(ROOT, DIST_DIR, "server", f), "utf8").includes("ERR_DRIVER_UNAVAILABLE"));
    const requiringCore = chunks.filter((f) => /@whisper\/core/.test(readFileSync(path.join(ROOT, DIST_DIR, "server", f), "utf8")));
    expect(withCoreCode).toEqual([]);
    expect(requiringCore.length).toBeGreaterThan(0);
  });
});
