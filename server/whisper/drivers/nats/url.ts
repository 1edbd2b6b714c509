import { defaults } from "../../defaults.js";
import { InvalidOptionsError, InvalidUrlError } from "../../errors.js";

/**
 * Where and how to connect (kept free of the NATS client's types: `natsServerAddress` is public API and the
 * client is an optional peer dependency); `key` identifies one pooled connection (server plus credentials).
 */
export interface ServerAddress {
  /** `nats://host:port`, without credentials: shown to users and used as the source of plain messages. */
  readonly url: string;
  readonly hostport: string;
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
  readonly key: string;
}

/** A parsed `nats://` or `jetstream://` URL: the server, the subject, and the query settings. */
export interface NatsUrl {
  readonly server: ServerAddress;
  readonly subject: string;
  readonly params: URLSearchParams;
}

const TOKEN = /^[^\s.*>]+$/;

/**
 * Parses `<scheme>://[user[:pass]@]host[:port]/<subject>[?…]`. A user without a password is a token.
 * Topics need a literal subject; subscriptions (`wildcards`) may use `*` tokens and a final `>`.
 * Throws InvalidUrlError naming what is wrong.
 */
export function parseNatsUrl(url: URL, { wildcards }: { wildcards: boolean }): NatsUrl {
  const scheme = url.protocol.slice(0, -1);
  let subject: string;
  try {
    subject = decodeURIComponent(url.pathname.replace(/^\/+/, ""));
  } catch (cause) {
    throw new InvalidUrlError(url.href, "the subject is not valid percent-encoding", { cause });
  }
  if (subject.length === 0) {
    throw new InvalidUrlError(url.href, `missing subject (expected ${scheme}://host:port/<subject>)`);
  }
  const tokens = subject.split(".");
  tokens.forEach((token, index) => {
    if (TOKEN.test(token)) return;
    if (wildcards && (token === "*" || (token === ">" && index === tokens.length - 1))) return;
    throw new InvalidUrlError(
      url.href,
      wildcards
        ? `subject "${subject}" is not valid: tokens are non-empty, without spaces, "*" or ">" only as whole tokens and ">" only last`
        : `subject "${subject}" is not valid for publishing: tokens are non-empty, without spaces or wildcards`,
    );
  });
  return { server: natsServerAddress(url), subject, params: url.searchParams };
}

/**
 * The server and credentials of a `nats://` or `jetstream://` URL, as the drivers connect to it: a user
 * without a password is a token. For code that needs its own connection to the same server.
 */
export function natsServerAddress(url: URL): ServerAddress {
  const host = url.hostname || "127.0.0.1";
  const port = url.port === "" ? defaults.nats.port : Number(url.port);
  const user = url.username ? decodeURIComponent(url.username) : undefined;
  const pass = url.password ? decodeURIComponent(url.password) : undefined;
  const hostport = `${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`;
  return {
    url: `nats://${hostport}`,
    hostport,
    user: pass === undefined ? undefined : user,
    pass,
    token: pass === undefined ? user : undefined,
    key: `${hostport}|${user ?? ""}|${pass ?? ""}`,
  };
}

/**
 * Reads a positive integer setting from the URL query, else from the code options, else the default.
 * Throws InvalidUrlError for a value that is not a positive integer.
 */
export function intSetting(
  url: URL,
  name: string,
  driverOptions: Readonly<Record<string, unknown>> | undefined,
  fallback: number,
  { allowZero = false }: { allowZero?: boolean } = {},
): number {
  const raw = url.searchParams.get(name) ?? driverOptions?.[name];
  if (raw === undefined || raw === null) return fallback;
  const value = typeof raw === "number" ? raw : Number(raw);
  if (!Number.isInteger(value) || value < 0 || (value === 0 && !allowZero)) {
    throw new InvalidUrlError(url.href, `${name} must be a ${allowZero ? "non-negative" : "positive"} integer`);
  }
  return value;
}

/** Reads a boolean setting (`true`/`false`, `1`/`0`) from the URL query, else the code options, else the default. */
export function boolSetting(
  url: URL,
  name: string,
  driverOptions: Readonly<Record<string, unknown>> | undefined,
  fallback: boolean,
): boolean {
  const raw = url.searchParams.get(name) ?? driverOptions?.[name];
  if (raw === undefined || raw === null) return fallback;
  if (raw === true || raw === "true" || raw === "1") return true;
  if (raw === false || raw === "false" || raw === "0") return false;
  throw new InvalidUrlError(url.href, `${name} must be true or false`);
}

/** Reads a string setting from the URL query, else the code options. */
export function stringSetting(
  url: URL,
  name: string,
  driverOptions: Readonly<Record<string, unknown>> | undefined,
): string | undefined {
  const raw = url.searchParams.get(name) ?? driverOptions?.[name];
  if (raw === undefined || raw === null || raw === "") return undefined;
  if (typeof raw !== "string") throw new InvalidUrlError(url.href, `${name} must be a string`);
  return raw;
}

/**
 * Rejects settings this driver does not know, in the URL query (InvalidUrlError) or the code options
 * (InvalidOptionsError), so a misspelt setting never passes silently.
 */
export function checkSettings(
  url: URL,
  driverOptions: Readonly<Record<string, unknown>> | undefined,
  known: readonly string[],
): void {
  for (const name of url.searchParams.keys()) {
    if (!known.includes(name)) {
      throw new InvalidUrlError(url.href, `unknown setting "${name}" (known: ${known.join(", ") || "none"})`);
    }
  }
  for (const name of Object.keys(driverOptions ?? {})) {
    if (!known.includes(name)) {
      throw new InvalidOptionsError(`unknown driver option "${name}" for ${url.protocol}// (known: ${known.join(", ") || "none"})`);
    }
  }
}
