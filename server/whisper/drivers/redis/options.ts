import { defaults } from "../../defaults.js";
import type { DriverCapabilities } from "../../driver.js";
import { InvalidUrlError } from "../../errors.js";
import { checkSettings, intSetting, stringSetting } from "../nats/url.js";
import { redisAddress, type RedisAddress } from "./connection.js";

/**
 * Redis Streams, `redis://[user:pass@]host[:port]/<stream>`. At-least-once: a publish resolves once XADD
 * answered (the entry is in the server's memory; how durable that is depends on the server's AOF/RDB setup);
 * a subscription is a consumer group (name = group) read with XREADGROUP and settled with XACK; what is
 * nacked or not acked within the ack deadline is claimed again (XAUTOCLAIM) with its delivery count.
 */
export const redisCapabilities: DriverCapabilities = Object.freeze({
  nack: true,
  redelivery: true,
  ordering: true,
  persistence: true,
  sharedSubscriptions: true,
});

/** Settings of redis:// URLs (query) and of `driver: {…}` options; the same list for topics and subscriptions. */
export const REDIS_SETTINGS = ["db", "maxLen", "maxAgeMs", "bufferTimeoutMs", "deliver", "privateLeaseMs"] as const;

/** A parsed redis:// URL. */
export interface RedisUrl {
  readonly address: RedisAddress;
  readonly stream: string;
  /** XADD trimming: `MAXLEN ~ n` or `MINID ~ <now - maxAgeMs>`; none = the stream grows until trimmed elsewhere. */
  readonly trim: { maxLen: number } | { maxAgeMs: number } | undefined;
  readonly bufferTimeoutMs: number;
  readonly deliver: "all" | "new" | undefined;
  /** How long a private subscription's group outlives its process (the lease it renews while open). */
  readonly privateLeaseMs: number;
}

/** Parses and checks a redis:// URL and its settings; InvalidUrlError/InvalidOptionsError say what is wrong. */
export function parseRedisUrl(url: URL, driverOptions: Readonly<Record<string, unknown>> | undefined): RedisUrl {
  checkSettings(url, driverOptions, REDIS_SETTINGS);
  let stream: string;
  try {
    stream = decodeURIComponent(url.pathname.replace(/^\/+/, ""));
  } catch (cause) {
    throw new InvalidUrlError(url.href, "the stream name is not valid percent-encoding", { cause });
  }
  if (stream.length === 0) throw new InvalidUrlError(url.href, "missing stream (expected redis://host:port/<stream>)");
  const db = intSetting(url, "db", driverOptions, 0, { allowZero: true });
  const maxLen = intSetting(url, "maxLen", driverOptions, 0);
  const maxAgeMs = intSetting(url, "maxAgeMs", driverOptions, 0);
  if (maxLen > 0 && maxAgeMs > 0) throw new InvalidUrlError(url.href, "maxLen and maxAgeMs exclude each other (one trimming rule per stream)");
  const deliver = stringSetting(url, "deliver", driverOptions);
  if (deliver !== undefined && deliver !== "all" && deliver !== "new") {
    throw new InvalidUrlError(url.href, `deliver must be "all" or "new"`);
  }
  return {
    address: redisAddress(url, db),
    stream,
    trim: maxLen > 0 ? { maxLen } : maxAgeMs > 0 ? { maxAgeMs } : undefined,
    bufferTimeoutMs: intSetting(url, "bufferTimeoutMs", driverOptions, defaults.redis.bufferTimeoutMs),
    deliver,
    privateLeaseMs: intSetting(url, "privateLeaseMs", driverOptions, defaults.redis.privateLeaseMs),
  };
}
