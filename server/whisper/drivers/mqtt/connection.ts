import { connect, type IClientOptions, type MqttClient } from "mqtt";
import { defaults } from "../../defaults.js";
import { ConnectionError, ErrorCode, PublishError, TimeoutError, WhisperError } from "../../errors.js";
import { newId } from "../../message.js";
import { SharedConnections, type SharedLease } from "../shared.js";

/** Where and how to connect; `key` identifies one shared publishing connection (server and credentials). */
export interface MqttAddress {
  /** `mqtt://host:port`, without credentials: shown to users and the source of plain messages. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
  readonly key: string;
}

export function mqttAddress(url: URL): MqttAddress {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1";
  const port = url.port === "" ? defaults.mqtt.port : Number(url.port);
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  const hostport = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  return { url: `mqtt://${hostport}`, host, port, username, password, key: `${hostport}|${username ?? ""}|${password ?? ""}` };
}

/**
 * Connects an MQTT 5 client (reconnecting forever `reconnectDelayMs` apart) and resolves once the broker accepted
 * it; if the first attempt fails, the client is ended and a ConnectionError naming the broker is thrown. `extra`
 * adds session options (a subscription's own client keeps a session across reconnects).
 */
export async function connectMqtt(address: MqttAddress, extra: Partial<IClientOptions> = {}): Promise<MqttClient> {
  const client = connect({
    protocol: "mqtt",
    host: address.host,
    port: address.port,
    username: address.username,
    password: address.password,
    protocolVersion: 5,
    clientId: `whisper-${newId()}`,
    reconnectPeriod: defaults.mqtt.reconnectDelayMs,
    connectTimeout: defaults.mqtt.connectTimeoutMs,
    ...extra,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (error: unknown) => {
        client.off("connect", ok);
        client.off("error", fail);
        client.off("close", closed);
        reject(error);
      };
      const closed = () => fail(new Error("connection closed"));
      const ok = () => {
        client.off("error", fail);
        client.off("close", closed);
        resolve();
      };
      client.once("connect", ok);
      client.once("error", fail);
      client.once("close", closed);
    });
  } catch (cause) {
    client.end(true);
    throw new ConnectionError(`cannot connect to MQTT broker at ${address.url}: ${(cause as Error)?.message ?? cause}`, { cause });
  }
  // The client reports failed reconnects as "error" events; an unheard one would crash the process.
  client.on("error", () => {});
  return client;
}

/**
 * Undefined while `client` is connected; else resolves on the reconnect or rejects after `timeoutMs` with a
 * retryable ConnectionError coded ERR_DISCONNECTED (never sends into a known-dead connection silently).
 */
export function whenConnected(client: MqttClient, address: MqttAddress, timeoutMs: number): Promise<void> | undefined {
  if (client.connected) return undefined;
  if (client.disconnecting) return Promise.reject(new ConnectionError(`connection to ${address.url} is closed`));
  return new Promise<void>((resolve, reject) => {
    const ok = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      client.off("connect", ok);
      reject(
        new ConnectionError(`disconnected from MQTT broker at ${address.url}: no reconnect within ${timeoutMs} ms`, {
          code: ErrorCode.Disconnected,
        }),
      );
    }, timeoutMs);
    client.once("connect", ok);
  });
}

const shared = new SharedConnections<{ client: MqttClient; address: MqttAddress }>(
  ({ client }) => new Promise<void>((resolve) => client.end(false, {}, () => resolve())),
);

/** The process's publishing connection to `address` (clean session), opened on first use; the last release ends it. */
export function acquireMqtt(address: MqttAddress): Promise<SharedLease<{ client: MqttClient; address: MqttAddress }>> {
  return shared.acquire(address.key, async () => ({ client: await connectMqtt(address), address }));
}

/** The shared MQTT publishing connections of this process (for diagnostics and tests). */
export function mqttConnections(): Array<{ server: string; users: number; connected: boolean }> {
  return shared.list().map(({ users, connection }) => ({
    server: connection?.address.url ?? "",
    users,
    connected: connection?.client.connected ?? false,
  }));
}

/** Wraps an MQTT.js error in a coded whisper error. A PUBACK with a failure reason code is a PublishError. */
export function wrapMqttError(error: unknown, server: string, what: string): WhisperError {
  if (error instanceof WhisperError) return error;
  const text = (error as Error)?.message ?? String(error);
  const reason = (error as { code?: unknown })?.code;
  if (typeof reason === "number" && reason >= 0x80) {
    // 0x97 quota exceeded and 0x89 server busy may pass; the rest (not authorized, topic name invalid…) will not.
    return new PublishError(`MQTT broker at ${server} refused ${what}: ${text}`, reason === 0x97 || reason === 0x89, { cause: error });
  }
  return new ConnectionError(`connection to MQTT broker at ${server} lost during ${what}: ${text}`, {
    cause: error,
    code: ErrorCode.Disconnected,
  });
}

export function isRetryableMqttError(error: unknown): boolean {
  if (error instanceof PublishError) return error.retryable;
  return error instanceof ConnectionError || error instanceof TimeoutError;
}
