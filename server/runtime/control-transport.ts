import { createHash } from "node:crypto";
import pg from "pg";
import { connectionSettings } from "@/prisma/connection";
import { natsServerAddress } from "@whisper/core";
import { describe } from "./errors";

/**
 * How replicas of one dashboard (same bus, same database) reach each other: a NATS subject when the bus is
 * NATS or JetStream, else PostgreSQL LISTEN/NOTIFY (the embedded database included).
 *
 * Contract of a transport:
 * - send() delivers `payload` (a JSON text of at most MAX_PAYLOAD_BYTES) to every replica listening on the
 *   channel, this one included (receivers drop their own by origin); it rejects if it could not send;
 * - received payloads are handed to `onPayload` in the order the transport got them;
 * - after a lost connection it reconnects by itself, and calls `onReconnect` so the owner can catch up on what
 *   it may have missed (delivery is at most once);
 * - close() stops listening; idempotent.
 */
export interface ControlTransport {
  readonly kind: "nats" | "postgres";
  send(payload: string): Promise<void>;
  close(): Promise<void>;
}

export interface TransportHandlers {
  onPayload(payload: string): void;
  onReconnect(): void;
  onError(error: unknown): void;
}

/** Below PostgreSQL's NOTIFY limit (8000 bytes) with room for the channel name. */
export const MAX_PAYLOAD_BYTES = 7_500;

/** The channel of the replicas sharing this database (host, port, database and schema): 16 hex characters. */
export function controlChannel(databaseUrl: string): string {
  const { pool, schema } = connectionSettings(databaseUrl);
  return createHash("sha256").update(`${pool.host}:${pool.port}/${pool.database}/${schema}`).digest("hex").slice(0, 16);
}

export async function openControlTransport(bus: string, databaseUrl: string, handlers: TransportHandlers): Promise<ControlTransport> {
  const url = new URL(bus);
  const channel = controlChannel(databaseUrl);
  if (url.protocol === "nats:" || url.protocol === "jetstream:") return openNatsTransport(url, `whisper.control.${channel}`, handlers);
  return openPostgresTransport(databaseUrl, `whisper_control_${channel}`, handlers);
}

async function openNatsTransport(bus: URL, subject: string, handlers: TransportHandlers): Promise<ControlTransport> {
  const { connect } = await import("@nats-io/transport-node");
  const server = natsServerAddress(bus);
  const nc = await connect({
    servers: server.hostport,
    name: "whisper-control",
    maxReconnectAttempts: -1,
    ...(server.token !== undefined ? { token: server.token } : {}),
    ...(server.user !== undefined ? { user: server.user, pass: server.pass } : {}),
  });
  const decoder = new TextDecoder();
  nc.subscribe(subject, {
    callback: (error, message) => {
      if (error) handlers.onError(error);
      else handlers.onPayload(decoder.decode(message.data));
    },
  });
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === "reconnect") handlers.onReconnect();
    }
  })().catch(() => {});
  return {
    kind: "nats",
    async send(payload) {
      nc.publish(subject, payload);
    },
    async close() {
      await nc.close().catch(() => {});
    },
  };
}

async function openPostgresTransport(databaseUrl: string, channel: string, handlers: TransportHandlers): Promise<ControlTransport> {
  const { pool: settings } = connectionSettings(databaseUrl);
  const sender = new pg.Pool({ ...settings, max: 2, allowExitOnIdle: true });
  sender.on("error", (error) => handlers.onError(error));
  let listener: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const listen = async (): Promise<void> => {
    const client = new pg.Client(settings);
    client.on("notification", (n) => {
      if (n.channel === channel && n.payload !== undefined) handlers.onPayload(n.payload);
    });
    client.on("error", (error) => {
      handlers.onError(error);
      if (listener === client) reconnect(1);
    });
    await client.connect();
    await client.query(`LISTEN ${channel}`);
    if (closed) return void client.end().catch(() => {});
    listener = client;
  };
  const reconnect = (attempt: number): void => {
    if (closed) return;
    void listener?.end().catch(() => {});
    listener = undefined;
    clearTimeout(retry);
    retry = setTimeout(() => {
      listen().then(handlers.onReconnect, (error) => {
        handlers.onError(new Error(`control channel: reconnecting LISTEN failed: ${describe(error)}`));
        reconnect(attempt + 1);
      });
    }, Math.min(5_000, 100 * 2 ** attempt));
    retry.unref();
  };

  await listen();
  return {
    kind: "postgres",
    async send(payload) {
      await sender.query("SELECT pg_notify($1, $2)", [channel, payload]);
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      await listener?.end().catch(() => {});
      await sender.end().catch(() => {});
    },
  };
}
