import { spawn } from "node:child_process";
import { ROOT } from "./app";
import { freePort } from "./net";

/**
 * The standalone sidecar as `npm run sidecar` runs it (server/sidecar/main.ts under tsx), in a child process on
 * a free port, without DATABASE_URL. start resolves once it printed where it listens; stop() sends SIGTERM
 * and resolves with the exit.
 */
export interface RunningSidecarProcess {
  address: string;
  pid: number;
  output(): string;
  /** Whether the process is still running. */
  alive(): boolean;
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startSidecarProcess(env: Record<string, string>): Promise<RunningSidecarProcess> {
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, WHISPER_GRPC_PORT: String(port), ...env };
  delete childEnv.DATABASE_URL;
  const child = spawn(process.execPath, ["--import", "tsx", "server/sidecar/main.ts"], { cwd: ROOT, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve((exit = { code, signal }))),
  );
  const running: RunningSidecarProcess = {
    address: `127.0.0.1:${port}`,
    pid: child.pid!,
    output: () => output,
    alive: () => exit === undefined,
    async stop() {
      if (exit) return exit;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  const deadline = Date.now() + 60_000;
  while (!/gRPC sidecar at/.test(output)) {
    if (exit) throw new Error(`the sidecar exited (${exit.code ?? exit.signal}) before it was ready:\n${output}`);
    if (Date.now() > deadline) {
      await running.stop();
      throw new Error(`the sidecar did not start within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return running;
}
