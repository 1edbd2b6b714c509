import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { DIST_DIR, eventually, ROOT } from "./app";

/**
 * The dashboard as a new user starts it: `npm start` (scripts/start.mjs) with no DATABASE_URL, WHISPER_BUS,
 * token or topics, on the data directory `dataDir`, in its own process group (so a failed test can stop
 * start.mjs, Next and the embedded database together).
 */
export interface StartedDashboard {
  child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  url: string;
}

export async function startEmbeddedDashboard(
  dataDir: string,
  port: number,
  extraEnv: Record<string, string> = {},
): Promise<StartedDashboard> {
  const env: NodeJS.ProcessEnv = { ...process.env, WHISPER_DATA_DIR: dataDir, PORT: String(port), NEXT_DIST_DIR: DIST_DIR, ...extraEnv };
  for (const name of ["DATABASE_URL", "WHISPER_BUS", "WHISPER_ADMIN_TOKEN", "WHISPER_TOPICS"]) delete env[name];
  const child = spawn(process.execPath, [path.join(ROOT, "scripts/start.mjs")], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}):\n${output}`);
      return /whisper dashboard\s+http/.test(output) ? true : undefined;
    },
    "the dashboard's ready banner",
    120_000,
  );
  return { child, output: () => output, url };
}

/** Stops the dashboard as a service manager would (SIGTERM to start.mjs, which stops what it started). */
export async function stopDashboard(started: StartedDashboard | undefined): Promise<void> {
  if (!started || started.child.exitCode !== null) return;
  const exited = new Promise((resolve) => started.child.once("exit", resolve));
  started.child.kill("SIGTERM");
  await exited;
}

/** Ctrl-C in the terminal: SIGINT to every process of start.mjs's process group; resolves once start.mjs exited. */
export async function interruptDashboard(started: StartedDashboard): Promise<void> {
  if (started.child.exitCode !== null) return;
  const exited = new Promise((resolve) => started.child.once("exit", resolve));
  process.kill(-started.child.pid!, "SIGINT");
  await exited;
}

/** Last resort after a failed test: SIGKILL to the whole process group. */
export function killDashboard(started: StartedDashboard | undefined): void {
  if (!started?.child.pid) return;
  try {
    process.kill(-started.child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}
