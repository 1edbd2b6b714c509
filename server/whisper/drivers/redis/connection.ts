import { Redis } from "ioredis";
import { defaults } from "../../defaults.js";
import { ConnectionError, ErrorCode, InvalidUrlError, NotFoundError, PublishError, TimeoutError, WhisperError } from "../../errors.js";
import { SharedConnections, type SharedLease } from "../shared.js";

/** Where and how to connect; `key` identifies one shared connection (server, database and credentials). */
export interface RedisAddress {
  /** `redis://host:port` (with `/db` when not 0), without credentials: shown to users. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
  readonly key: string;
}

/** The server of a `redis://` URL; `db` comes from the URL's `db` setting. */
export function redisAddress(url: URL, db: number): RedisAddress {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1";
  const port = url.port === "" ? defaults.redis.port : Number(url.port);
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  if (username !== undefined && password === undefined) {
    throw new InvalidUrlError(url.href, "a user needs a password (redis://user:pass@host or redis://:pass@host)");
  }
  const hostport = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    url: `redis://${hostport}${db === 0 ? "" : `?db=${db}`}`,
    host,
    port,
    db,
    username,
    password,
    key: `${hostport}|${db}|${username ?? ""}|${password ?? ""}`,
  };
}

/**
 * One command connection to a Redis server (ioredis, reconnecting forever `reconnectDelayMs` apart). Blocking
 * reads never run on it (they would stall every other user): subscriptions take their own with `blocking()`.
 */
export class RedisConnection {
  constructor(
    readonly client: Redis,
    readonly address: RedisAddress,
  ) {}

  /**
   * Undefined while connected (send now); while disconnected a promise that resolves on the reconnect, or
   * rejects after `timeoutMs` with a retryable ConnectionError coded ERR_DISCONNECTED.
   */
  whenReady(timeoutMs: number): Promise<void> | undefined {
    const status = this.client.status;
    if (status === "ready") return undefined;
    if (status === "end") return Promise.reject(new ConnectionError(`connection to ${this.address.url} is closed`));
    return new Promise<void>((resolve, reject) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.client.off("ready", onReady);
        reject(
          new ConnectionError(`disconnected from Redis at ${this.address.url}: no reconnect within ${timeoutMs} ms`, {
            code: ErrorCode.Disconnected,
          }),
        );
      }, timeoutMs);
      this.client.once("ready", onReady);
    });
  }

  /** A new connection to the same server for blocking reads; the caller disconnects it. */
  async blocking(): Promise<Redis> {
    return connectClient(this.address, { maxRetriesPerRequest: null });
  }
}

async function connectClient(address: RedisAddress, extra: { maxRetriesPerRequest: number | null }): Promise<Redis> {
  const limits = defaults.redis;
  const client = new Redis({
    host: address.host,
    port: address.port,
    db: address.db,
    username: address.username,
    password: address.password,
    connectionName: "whisper",
    lazyConnect: true,
    connectTimeout: limits.connectTimeoutMs,
    retryStrategy: () => limits.reconnectDelayMs,
    ...extra,
  });
  // ioredis reports every failed reconnect as an "error" event; an unheard one would crash the process.
  client.on("error", () => {});
  try {
    await client.connect();
    return client;
  } catch (cause) {
    client.disconnect();
    throw new ConnectionError(`cannot connect to Redis at ${address.url}: ${(cause as Error)?.message ?? cause}`, {
      cause,
    });
  }
}

const shared = new SharedConnections<RedisConnection>(async (connection) => {
  await connection.client.quit().catch(() => connection.client.disconnect());
});

/**
 * The process's command connection to `address`, opened on first use (ConnectionError naming the server when
 * that fails); each lease is released once and the last release closes the connection.
 */
export function acquireRedis(address: RedisAddress): Promise<SharedLease<RedisConnection>> {
  return shared.acquire(address.key, async () => {
    // Commands wait for a reconnect only about as long as a publish may (the rest is whenReady()'s gate).
    const retries = Math.ceil(defaults.redis.bufferTimeoutMs / defaults.redis.reconnectDelayMs);
    return new RedisConnection(await connectClient(address, { maxRetriesPerRequest: retries }), address);
  });
}

/** The shared Redis connections of this process (for diagnostics and tests). */
export function redisConnections(): Array<{ server: string; users: number; connected: boolean }> {
  return shared.list().map(({ users, connection }) => ({
    server: connection?.address.url ?? "",
    users,
    connected: connection?.client.status === "ready",
  }));
}

/** Server replies that say "not now" rather than "never": worth another try. */
const TRANSIENT_REPLY = /^(OOM|BUSY|LOADING|TRYAGAIN|READONLY|MASTERDOWN|CLUSTERDOWN|MISCONF)\b/;

/** Wraps an ioredis error in a coded whisper error; `what` names the operation and the stream. */
export function wrapRedisError(error: unknown, server: string, what: string): WhisperError {
  if (error instanceof WhisperError) return error;
  const name = (error as Error)?.name ?? "";
  const text = (error as Error)?.message ?? String(error);
  if (name === "ReplyError") {
    if (/^NOGROUP\b/.test(text)) return new NotFoundError(`${what} on ${server} (${text})`, { cause: error });
    return new PublishError(`Redis at ${server} refused ${what}: ${text}`, TRANSIENT_REPLY.test(text), { cause: error });
  }
  if (/timeout/i.test(`${name} ${text}`)) return new TimeoutError(`${what} on ${server}`, defaults.redis.connectTimeoutMs);
  return new ConnectionError(`connection to Redis at ${server} lost during ${what}: ${text}`, {
    cause: error,
    code: ErrorCode.Disconnected,
  });
}

/** True for errors worth another try: connection loss, timeouts, and server replies marked transient. */
export function isRetryableRedisError(error: unknown): boolean {
  if (error instanceof PublishError) return error.retryable;
  return error instanceof ConnectionError || error instanceof TimeoutError;
}
