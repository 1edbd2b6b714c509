import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { httpDefaults } from "@/server/http/defaults";
import { PubSubService } from "./gen/whisper/v1/sidecar_pb";
import type { SidecarBackend } from "./backend";
import { registerReflection } from "./reflection";
import { pubSubService } from "./service";

/** How long close() lets calls finish before it resets the connections still open. */
const CLOSE_GRACE_MS = 5_000;

export interface RunningSidecar {
  /** The port it listens on (the one asked for, or the one the system chose for 0). */
  port: number;
  host: string;
  /**
   * Stops taking calls: open calls' signals abort (a Subscribe stream nacks what it holds and ends), then
   * the server closes; connections still open after CLOSE_GRACE_MS are reset. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Serves whisper.v1.PubSubService and server reflection on `host:port` with Connect over cleartext HTTP/2:
 * gRPC, gRPC-Web and the Connect protocol on one port. A request message larger than the events route's
 * body limit (httpDefaults.body.eventsBytes) is refused with RESOURCE_EXHAUSTED before it is decoded.
 * Rejects when the port cannot be bound.
 */
export async function startSidecarServer(backend: SidecarBackend, { host, port }: { host: string; port: number }): Promise<RunningSidecar> {
  const shutdown = new AbortController();
  const handler = connectNodeAdapter({
    routes: (router) => {
      router.service(PubSubService, pubSubService(backend));
      registerReflection(router, [PubSubService]);
    },
    readMaxBytes: httpDefaults.body.eventsBytes,
    shutdownSignal: shutdown.signal,
  });
  const server = http2.createServer(handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (error) => console.error("whisper: sidecar server:", error));
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    host,
    close() {
      closing ??= new Promise<void>((resolve) => {
        shutdown.abort();
        server.close(() => resolve());
        for (const session of sessions) session.close();
        const force = setTimeout(() => {
          for (const session of sessions) session.destroy();
        }, CLOSE_GRACE_MS);
        force.unref();
      });
      return closing;
    },
  };
}
