import { getConfig } from "@/server/config";
import { describe, startRuntime } from "@/server/runtime";
import { DashboardBackend } from "./dashboard-backend";
import { startSidecarServer } from "./server";

const SERVED = Symbol.for("whisper.sidecar.served");

/**
 * Serves the gRPC sidecar from the dashboard's process when WHISPER_GRPC_PORT is set (instrumentation.ts, after
 * the runtime booted): over the process's Runtime, closed first when the runtime shuts down. A port that cannot
 * be bound prints why and exits 1, as any start-up failure of the dashboard does. Once per process.
 */
export async function serveSidecarFromDashboard(): Promise<void> {
  const { grpc } = getConfig();
  const holder = globalThis as { [SERVED]?: true };
  if (grpc.port === undefined || holder[SERVED]) return;
  holder[SERVED] = true;
  const runtime = await startRuntime("instrumentation");
  try {
    const sidecar = await startSidecarServer(new DashboardBackend(runtime), { host: grpc.host, port: grpc.port });
    runtime.beforeShutdown(() => sidecar.close());
    console.log(`whisper: gRPC sidecar at ${sidecar.host}:${sidecar.port} (whisper.v1.PubSubService, reflection on)`);
  } catch (error) {
    console.error(`\nwhisper: cannot serve gRPC on ${grpc.host}:${grpc.port} (WHISPER_GRPC_PORT): ${describe(error)}\n`);
    process.exit(1);
  }
}
