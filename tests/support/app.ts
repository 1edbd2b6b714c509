import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { buildCore } from "../../scripts/build-core.mjs";
import { buildIsFresh as isFresh } from "../../scripts/build-freshness.mjs";
import { freePort } from "./net";
import { dropSchema } from "./postgres";

/**
 * The dashboard as the API tests see it: the production build (`next build` into .next-api) served by
 * `next start` on a free 127.0.0.1 port, against a fresh Postgres schema and the in-process bus.
 *
 * - ensureBuilt() builds at most once per test run: it rebuilds only when .next-api/BUILD_ID is older than
 *   any source file, under a lock directory so concurrent callers wait for one build;
 * - createSchema() makes an empty schema in the `test` database and migrates it; drop() removes it;
 * - startApp() resolves once /api/health answers 200; stop() sends SIGTERM and waits for the exit.
 */

export const ROOT = path.resolve(import.meta.dirname, "..", "..");
export const DIST_DIR = ".next-api";
const LOCK = path.join(ROOT, `${DIST_DIR}.lock`);
const NEXT_BIN = path.join(ROOT, "node_modules", "next", "dist", "bin", "next");
const POSTGRES = process.env.WHISPER_TEST_POSTGRES ?? "postgresql://postgres@127.0.0.1:5432/test";

function buildIsFresh(): boolean {
  return isFresh(ROOT, DIST_DIR);
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, output }));
  });
}

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // Another test process is building; a lock older than 10 minutes is stale (a killed build).
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 600_000) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        // The holder removed it meanwhile.
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** Builds the app into .next-api unless the build there is newer than every source file. */
export async function ensureBuilt(): Promise<void> {
  await withLock(async () => {
    buildCore(ROOT);
    if (buildIsFresh()) return;
    const { code, output } = await run(process.execPath, [NEXT_BIN, "build"], {
      ...process.env,
      NEXT_DIST_DIR: DIST_DIR,
      NEXT_TELEMETRY_DISABLED: "1",
      NODE_ENV: "production",
    });
    if (code !== 0) throw new Error(`next build failed (exit ${code}):\n${output.slice(-6000)}`);
  });
}

export interface TestSchema {
  name: string;
  databaseUrl: string;
  drop(): Promise<void>;
}

/** A new, migrated schema in the test database, named `[WHISPER_TEST_SCHEMA_PREFIX]<prefix>_<random>`. */
export async function createSchema(prefix = "api"): Promise<TestSchema> {
  const name = `${process.env.WHISPER_TEST_SCHEMA_PREFIX ?? ""}${prefix}_${randomBytes(6).toString("hex")}`;
  const databaseUrl = `${POSTGRES}?schema=${name}`;
  const admin = new pg.Client({ connectionString: POSTGRES });
  await admin.connect();
  try {
    await admin.query(`create schema "${name}"`);
  } finally {
    await admin.end();
  }
  const { code, output } = await run(process.execPath, [path.join(ROOT, "scripts", "prisma-cli.mjs"), "migrate", "deploy"], {
    ...process.env,
    DATABASE_URL: databaseUrl,
  });
  if (code !== 0) throw new Error(`prisma migrate deploy failed (exit ${code}):\n${output.slice(-4000)}`);
  return {
    name,
    databaseUrl,
    drop: () => dropSchema(name, POSTGRES),
  };
}

export interface RunningApp {
  url: string;
  token: string;
  /** The next-server process (`next start` serves from the process it was started as). */
  pid: number;
  /** Everything the server printed so far. */
  output(): string;
  /** fetch() against the app with the admin token (unless `headers.authorization` is given). */
  api(pathname: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  databaseUrl: string;
  /** WHISPER_TOPICS */
  topics?: string;
  /** WHISPER_ADMIN_TOKEN; null = leave it unset (the server generates one). */
  token?: string | null;
  env?: Record<string, string>;
  /** Extra arguments for `next start` (default: -H 127.0.0.1). */
  args?: string[];
  /** Resolve once the process printed this (instead of waiting for /api/health). */
  waitForOutput?: RegExp;
}

/** Starts `next start` on the .next-api build. */
export async function startApp(options: StartOptions): Promise<RunningApp> {
  const port = await freePort();
  const token = options.token === undefined ? randomBytes(24).toString("base64url") : options.token;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    NEXT_DIST_DIR: DIST_DIR,
    NEXT_TELEMETRY_DISABLED: "1",
    WHISPER_BUS: "eventbus:",
    DATABASE_URL: options.databaseUrl,
    WHISPER_TOPICS: options.topics ?? "",
    ...options.env,
  };
  delete env.HOSTNAME;
  if (token === null) delete env.WHISPER_ADMIN_TOKEN;
  else env.WHISPER_ADMIN_TOKEN = token;
  const args = options.args ?? ["-H", "127.0.0.1"];
  const child: ChildProcess = spawn(process.execPath, [NEXT_BIN, "start", "-p", String(port), ...args], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exited.then((e) => (exit = e));
  const url = `http://127.0.0.1:${port}`;
  const app: RunningApp = {
    url,
    token: token ?? "",
    pid: child.pid!,
    output: () => output,
    api(pathname, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has("authorization") && token) headers.set("authorization", `Bearer ${token}`);
      return fetch(`${url}${pathname}`, { ...init, headers });
    },
    async stop() {
      if (exit) return exit;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exit) throw new Error(`next start exited (${exit.code ?? exit.signal}) before it was ready:\n${output.slice(-4000)}`);
    if (options.waitForOutput?.test(output)) return app;
    if (!options.waitForOutput) {
      try {
        const response = await fetch(`${url}/api/health`);
        if (response.status === 200) return app;
      } catch {
        // Not listening yet.
      }
    }
    if (Date.now() > deadline) {
      await app.stop();
      throw new Error(`next start did not become ready within 90 s:\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The app on JetStream for one test file: builds if needed, a fresh schema (`prefix`), and `next start` on
 * `jetstream://<nats>?stream=<stream>` managing `topics` (WHISPER_TOPICS).
 */
export async function startOnJetStream(
  prefix: string,
  { nats, stream, topics }: { nats: string; stream: string; topics: string },
): Promise<{ schema: TestSchema; app: RunningApp }> {
  await ensureBuilt();
  const schema = await createSchema(prefix);
  const app = await startApp({ databaseUrl: schema.databaseUrl, topics, env: { WHISPER_BUS: `jetstream://${nats}?stream=${stream}` } });
  return { schema, app };
}

/** Polls `probe` until it returns a value other than undefined (for effects that complete asynchronously). */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface ApiRoute {
  /** e.g. "app/api/topics/[topic]/events/route.ts" */
  file: string;
  /** e.g. "/api/topics/{topic}/events" (OpenAPI style) */
  path: string;
  methods: string[];
}

const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/**
 * Every app/api route file with the HTTP methods it implements (read from the source, not from a list): each
 * `export const GET = …` / `export function GET` / `export { GET }`. The 405 handlers a route file exports
 * with `export const { PUT, … } = notAllowed(…)` are not counted (that form matches none of the patterns).
 */
export async function apiRoutes(): Promise<ApiRoute[]> {
  const { readFile } = await import("node:fs/promises");
  const routes: ApiRoute[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) await walk(rel);
      else if (/^route\.(ts|tsx|js|mjs)$/.test(entry.name)) {
        const source = await readFile(path.join(ROOT, rel), "utf8");
        const methods = HTTP_METHODS.filter((m) =>
          new RegExp(`export\\s+(const|async\\s+function|function)\\s+${m}\\b|export\\s*\\{[^}]*\\b${m}\\b[^}]*\\}`).test(source),
        );
        const segments = path.posix.dirname(rel).split("/").slice(1);
        // [name] → {name}; a catch-all [...name] → {name} too (one segment stands for any path).
        const apiPath = `/${segments.map((s) => s.replace(/^\[(?:\.\.\.)?(.+)\]$/, "{$1}")).join("/")}`;
        routes.push({ file: rel, path: apiPath, methods });
      }
    }
  };
  await walk("app/api");
  return routes.sort((a, b) => a.path.localeCompare(b.path));
}

/** The concrete URL of an OpenAPI-style path with every {param} replaced from `values`. */
export function fillPath(apiPath: string, values: Record<string, string>): string {
  return apiPath.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no sample value for path parameter {${name}} of ${apiPath}`);
    return encodeURIComponent(value);
  });
}

/** Reads SSE `frame` events from /api/live until `done(frames)` says stop. */
export async function readFrames(
  app: RunningApp,
  query: string,
  onOpen: () => Promise<void>,
  done: (frames: Array<{ messages: Array<Record<string, unknown>>; dropped: number }>) => boolean,
  timeoutMs = 30_000,
): Promise<Array<{ messages: Array<Record<string, unknown>>; dropped: number }>> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error("timed out reading live frames")), timeoutMs);
  const frames: Array<{ messages: Array<Record<string, unknown>>; dropped: number }> = [];
  try {
    const response = await app.api(`/api/live${query}`, { signal: controller.signal });
    if (response.status !== 200 || !response.body) throw new Error(`/api/live answered ${response.status}`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let opened = false;
    for (;;) {
      const { value, done: ended } = await reader.read();
      if (ended) throw new Error("live stream ended");
      buffer += value;
      let cut: number;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        if (block.startsWith(": connected") && !opened) {
          opened = true;
          await onOpen();
          continue;
        }
        const lines = block.split("\n");
        if (!lines.includes("event: frame")) continue;
        const data = lines.find((l) => l.startsWith("data: "));
        if (data) frames.push(JSON.parse(data.slice(6)));
        if (done(frames)) {
          await reader.cancel();
          return frames;
        }
      }
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}
