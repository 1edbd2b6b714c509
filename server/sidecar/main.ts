import { loadSidecarConfig } from "@/server/config";
import { describe, redactUrl } from "@/server/runtime/errors";
import { startSidecarServer } from "./server";
import { StandaloneBackend } from "./standalone-backend";

/**
 * `npm run sidecar`: the core and the gRPC server only (no Next, no database), for a pod sidecar. Reads the
 * dashboard's variables (WHISPER_GRPC_PORT required, WHISPER_BUS, WHISPER_TOPICS, the tokens, limits); prints
 * where it listens (and the admin token when it generated one); SIGTERM/SIGINT stop taking calls, nack what
 * streams hold, flush the topics and exit. A bad configuration or a port that cannot be bound exits 1 saying why.
 */
async function main(): Promise<void> {
  const config = loadSidecarConfig();
  const backend = await StandaloneBackend.open(config);
  const sidecar = await startSidecarServer(backend, config.grpc).catch(async (error: unknown) => {
    await backend.close();
    throw new Error(`cannot serve gRPC on ${config.grpc.host}:${config.grpc.port} (WHISPER_GRPC_PORT): ${describe(error)}`, { cause: error });
  });
  console.log(
    `whisper: gRPC sidecar at ${sidecar.host}:${sidecar.port} (bus ${redactUrl(config.bus)}, topics ${config.topics.map((t) => t.name).join(", ") || "none"}; no history)`,
  );
  if (config.tokenGenerated) console.log(`whisper: admin token (generated; set WHISPER_ADMIN_TOKEN to choose one): ${config.adminToken}`);
  for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
    process.once(signal, () => {
      void sidecar
        .close()
        .then(() => backend.close())
        .finally(() => process.exit(code));
    });
  }
}

main().catch((error: unknown) => {
  console.error(`\n${error instanceof Error && error.name === "ConfigError" ? error.message : `whisper: sidecar cannot start: ${describe(error)}`}\n`);
  process.exit(1);
});
