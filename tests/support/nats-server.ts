import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { natsConnections } from "@/server/whisper/drivers/nats";
import { accepts } from "./broker-process";
import { freePort } from "./net";
import { waitFor } from "./wait";

const BINARY = "/usr/sbin/nats-server";

/**
 * A nats-server (with JetStream) owned by one test: its own port and store directory, started and stopped by
 * PID only. Never touches the shared server on 4222.
 */
export class TestNatsServer {
  readonly port: number;
  readonly storeDir: string;
  #child: ChildProcess | undefined;

  private constructor(port: number, storeDir: string) {
    this.port = port;
    this.storeDir = storeDir;
  }

  /** Starts a server on a free port with a fresh store directory; resolves once it accepts connections. */
  static async start(): Promise<TestNatsServer> {
    const server = new TestNatsServer(await freePort(), mkdtempSync(path.join(tmpdir(), "whisper-nats-")));
    await server.restart();
    return server;
  }

  /** `nats://127.0.0.1:<port>` */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** (Re)starts on the same port and store directory; resolves once the port accepts connections. */
  async restart(): Promise<void> {
    if (this.#child) return;
    const child = spawn(BINARY, ["-a", "127.0.0.1", "-p", String(this.port), "-js", "-sd", this.storeDir], {
      stdio: "ignore",
    });
    this.#child = child;
    child.once("exit", () => {
      if (this.#child === child) this.#child = undefined;
    });
    await waitFor(
      async () => {
        if (this.#child !== child) throw new Error(`nats-server on port ${this.port} exited at start`);
        return accepts(this.port);
      },
      { timeoutMs: 5_000, everyMs: 25, what: `nats-server on port ${this.port} accepting connections` },
    );
  }

  /** Stops the server by PID (`SIGKILL` = crash, `SIGTERM` = clean) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
    if (this.#child === child) this.#child = undefined;
  }

  /** Stops the server and removes its store directory. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

/** Waits until the pooled core connection to `server` (`nats://host:port`) is connected, or disconnected. */
export async function connectionState(server: string, connected: boolean, timeoutMs = 20_000): Promise<void> {
  await waitFor(() => natsConnections().some((c) => c.server === server && c.connected === connected), {
    timeoutMs,
    everyMs: 25,
    what: `connection to ${server} ${connected ? "connected" : "disconnected"}`,
  });
}
