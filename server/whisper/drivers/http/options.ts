import type { ServerOptions as HttpsServerOptions } from "node:https";
import type { ConnectionOptions } from "node:tls";
import { z } from "zod";
import { defaults } from "../../defaults.js";
import { InvalidOptionsError, InvalidUrlError } from "../../errors.js";

/** The http driver's defaults (reasons in defaults.ts). */
export const httpDefaults = defaults.http;

export type TopicMode = "binary" | "structured" | "batch";

const intFromString = z
  .union([z.number(), z.string().regex(/^\d+$/, "must be a whole number").transform(Number)])
  .pipe(z.number().int().positive());

const topicSchema = z.strictObject({
  mode: z.enum(["binary", "structured", "batch"]).optional(),
  timeoutMs: intFromString.optional(),
  maxInFlight: intFromString.optional(),
  /** Extra request headers (e.g. Authorization for a webhook). */
  headers: z.record(z.string(), z.string()).optional(),
  /** TLS client options for https (ca, cert, key, rejectUnauthorized, …). */
  tls: z.record(z.string(), z.unknown()).optional(),
});

const subscriptionSchema = z.strictObject({
  respond: z.enum(["settled", "received"]).optional(),
  maxBodyBytes: intFromString.optional(),
  maxQueued: intFromString.optional(),
  /** TLS server options for https (key and cert at least). */
  tls: z.record(z.string(), z.unknown()).optional(),
});

/** Query parameters the driver reads; topic ones are removed from the URL that is POSTed to. */
const TOPIC_PARAMS = ["mode", "timeoutMs", "maxInFlight"] as const;
const SUBSCRIPTION_PARAMS = ["respond", "maxBodyBytes", "maxQueued"] as const;

export interface TopicSettings {
  /** The URL requests go to: the topic URL without the driver's own query parameters. */
  target: URL;
  mode: TopicMode;
  timeoutMs: number;
  maxInFlight: number;
  headers: Record<string, string>;
  tls: ConnectionOptions | undefined;
}

export interface SubscriptionSettings {
  secure: boolean;
  /** Host to bind, as given in the URL (brackets removed for IPv6). */
  host: string;
  port: number;
  /** The path requests must target (decoded, without query). */
  path: string;
  maxBodyBytes: number;
  maxQueued: number;
  respond: "settled" | "received";
  tls: HttpsServerOptions | undefined;
}

function checkBase(url: URL): void {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InvalidUrlError(url.href, "the http driver handles http: and https: URLs only");
  }
  if (url.hostname === "") throw new InvalidUrlError(url.href, "missing host (expected http://host:port/path)");
  if (url.username !== "" || url.password !== "") {
    throw new InvalidUrlError(url.href, "credentials in the URL are not supported; pass headers in the driver options");
  }
  if (url.hash !== "") throw new InvalidUrlError(url.href, "a fragment has no meaning here");
}

/** Merges query parameters (strings) with code options; the query wins, as it is the more specific. */
function merge(url: URL, names: readonly string[], given: Readonly<Record<string, unknown>> | undefined) {
  const merged: Record<string, unknown> = { ...given };
  for (const name of names) {
    const values = url.searchParams.getAll(name);
    if (values.length > 1) throw new InvalidUrlError(url.href, `query parameter ${name} is given more than once`);
    if (values.length === 1) merged[name] = values[0];
  }
  return merged;
}

function parseWith<T extends z.ZodType>(schema: T, value: unknown, url: URL): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new InvalidOptionsError(`http driver options for ${url.href}: ${z.prettifyError(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/** Reads a topic's settings from its URL and driver options. Throws InvalidUrlError / InvalidOptionsError. */
export function topicSettings(url: URL, driver: Readonly<Record<string, unknown>> | undefined): TopicSettings {
  checkBase(url);
  const options = parseWith(topicSchema, merge(url, TOPIC_PARAMS, driver), url);
  const target = new URL(url.href);
  for (const name of TOPIC_PARAMS) target.searchParams.delete(name);
  if (target.search === "?") target.search = "";
  return {
    target,
    mode: options.mode ?? httpDefaults.mode,
    timeoutMs: options.timeoutMs ?? httpDefaults.timeoutMs,
    maxInFlight: options.maxInFlight ?? httpDefaults.maxInFlight,
    headers: options.headers ?? {},
    tls: options.tls as ConnectionOptions | undefined,
  };
}

/** Reads a subscription's settings from its URL and driver options. Throws InvalidUrlError / InvalidOptionsError. */
export function subscriptionSettings(
  url: URL,
  driver: Readonly<Record<string, unknown>> | undefined,
): SubscriptionSettings {
  checkBase(url);
  for (const name of new Set(url.searchParams.keys())) {
    if (!(SUBSCRIPTION_PARAMS as readonly string[]).includes(name) && !(TOPIC_PARAMS as readonly string[]).includes(name)) {
      throw new InvalidUrlError(
        url.href,
        `unknown query parameter ${name} (a subscription reads ${SUBSCRIPTION_PARAMS.join(", ")}; topic ones are ignored)`,
      );
    }
  }
  const options = parseWith(subscriptionSchema, merge(url, SUBSCRIPTION_PARAMS, driver), url);
  const secure = url.protocol === "https:";
  if (secure && (options.tls?.key === undefined || options.tls?.cert === undefined)) {
    throw new InvalidOptionsError(`an https subscription needs driver options tls.key and tls.cert (${url.href})`);
  }
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch (cause) {
    throw new InvalidUrlError(url.href, "the path is not valid percent-encoding", { cause });
  }
  if (url.port === "0") throw new InvalidUrlError(url.href, "a subscription needs a fixed port (senders must know it)");
  return {
    secure,
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port === "" ? (secure ? 443 : 80) : Number(url.port),
    path,
    maxBodyBytes: options.maxBodyBytes ?? httpDefaults.maxBodyBytes,
    maxQueued: options.maxQueued ?? httpDefaults.maxQueued,
    respond: options.respond ?? httpDefaults.respond,
    tls: options.tls as HttpsServerOptions | undefined,
  };
}

/** The path of a request target, decoded, without query; undefined if it is not valid percent-encoding. */
export function requestPath(target: string): string | undefined {
  const end = target.search(/[?#]/);
  const raw = end === -1 ? target : target.slice(0, end);
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}
