/**
 * Next.js start-up hook: starts the embedded whisper runtime once per server process (nodejs runtime only).
 * Contract: first hooks the HTTP server so every request carries facts clients cannot forge
 * (server/http/stamp.ts); on success prints the dashboard URL (and the admin token when it was generated) and installs
 * SIGTERM/SIGINT handlers that shut the runtime down cleanly; on failure prints what to fix and exits 1,
 * so a misconfigured server never serves.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  // Before anything else: route handlers rely on the request stamp (peer address, repeated headers).
  const { installRequestStamp } = await import("./server/http/stamp");
  installRequestStamp();
  const { bootRuntime } = await import("./server/runtime/boot");
  await bootRuntime();
  // The gRPC sidecar, when WHISPER_GRPC_PORT is set (server/sidecar/, docs/sidecar.md).
  const { serveSidecarFromDashboard } = await import("./server/sidecar/dashboard");
  await serveSidecarFromDashboard();
}
