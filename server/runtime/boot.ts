import { demoFor } from "../demo";
import { describe, redactUrl } from "./errors";
import { startRuntime } from "./instance";
import type { Runtime } from "./runtime";

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };
const BOOTED = Symbol.for("whisper.runtime.booted");

/**
 * Boots the runtime for instrumentation.ts: start, print where to go (and the token, only if generated),
 * start the demo when WHISPER_DEMO=1, install the shutdown handlers. A failed start prints the reason and
 * exits the process with status 1.
 */
export async function bootRuntime(): Promise<void> {
  const holder = globalThis as { [BOOTED]?: true };
  if (holder[BOOTED]) return; // Next dev may run register() again after a reload; the runtime lives on.
  holder[BOOTED] = true;
  let runtime: Runtime;
  try {
    runtime = await startRuntime("instrumentation");
  } catch (error) {
    console.error(`\n${error instanceof Error && error.name === "ConfigError" ? error.message : `whisper: cannot start: ${describe(error)}`}\n`);
    process.exit(1);
  }
  if (runtime.config.demo) {
    await demoFor(runtime)
      .start("system:demo")
      .then(
        (status) => console.log(`whisper: demo traffic on ${status.topics.join(", ")} (WHISPER_DEMO=1)`),
        (error: unknown) => console.error(`whisper: demo traffic did not start: ${describe(error)}`),
      );
  }
  const { hostname, port, tokenGenerated, adminToken, bus } = runtime.config;
  const host = hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]` : hostname;
  const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
  const replicas = runtime.replicas();
  console.log(
    `whisper: dashboard at ${url} (bus ${redactUrl(bus)}, ${runtime.topicNames().length} topics, replicas share state over ${replicas.transport})`,
  );
  if (tokenGenerated) {
    console.log(`whisper: admin token (generated; set WHISPER_ADMIN_TOKEN to choose one): ${adminToken}`);
    console.log(`whisper: log in at ${url}/login, or send 'Authorization: Bearer ${adminToken}'`);
  }
  // Next's own signal handlers (absent with NEXT_MANUAL_SIG_HANDLE) close the server and exit at once; they
  // run after the runtime has flushed, so accepted publishes and held recorder batches are not lost.
  for (const signal of Object.keys(SIGNAL_EXIT) as NodeJS.Signals[]) {
    const previous = process.listeners(signal);
    process.removeAllListeners(signal);
    process.once(signal, () => {
      void runtime.shutdown().finally(() => {
        if (previous.length === 0) process.exit(SIGNAL_EXIT[signal]);
        for (const listener of previous) listener(signal);
      });
    });
  }
}
