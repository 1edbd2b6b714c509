import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { freePort } from "./net";
import { waitFor } from "./wait";

/** True if something accepts TCP connections on 127.0.0.1:`port`. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * A broker process owned by one test (redis-server, mosquitto): its own port, started and stopped by PID only.
 * Never touches the shared servers.
 */
export class BrokerProcess {
  #child: ChildProcess | undefined;

  private constructor(
    readonly name: string,
    readonly port: number,
    readonly command: (port: number) => [string, string[]],
  ) {}

  /** Starts the broker on a free port; resolves once it accepts connections. */
  static async start(name: string, command: (port: number) => [string, string[]]): Promise<BrokerProcess> {
    const broker = new BrokerProcess(name, await freePort(), command);
    await broker.restart();
    return broker;
  }

  /** A private redis-server that keeps nothing on disk. */
  static redis(): Promise<BrokerProcess> {
    return BrokerProcess.start("redis-server", (port) => [
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    ]);
  }

  /** A private mosquitto listening on 127.0.0.1 only. */
  static mosquitto(): Promise<BrokerProcess> {
    return BrokerProcess.start("mosquitto", (port) => ["mosquitto", ["-p", String(port)]]);
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** (Re)starts on the same port; resolves once the port accepts connections. */
  async restart(): Promise<void> {
    if (this.#child) return;
    const [command, args] = this.command(this.port);
    const child = spawn(command, args, { stdio: "ignore" });
    this.#child = child;
    child.once("exit", () => {
      if (this.#child === child) this.#child = undefined;
    });
    await waitFor(
      async () => {
        if (this.#child !== child) throw new Error(`${this.name} on port ${this.port} exited at start`);
        return accepts(this.port);
      },
      { timeoutMs: 10_000, everyMs: 25, what: `${this.name} on port ${this.port} accepting connections` },
    );
  }

  /** Stops the broker by PID (SIGKILL = crash) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
    if (this.#child === child) this.#child = undefined;
  }
}
