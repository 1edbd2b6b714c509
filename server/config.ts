import { randomBytes } from "node:crypto";
import { isIP } from "node:net";
import { z } from "zod";
import { httpDefaults } from "./http/defaults";
import { historyDefaults } from "./history/defaults";
import type { RetentionSettings } from "./history/retention";

/**
 * The dashboard's configuration, read once per process from the environment and validated with zod.
 * Contract:
 * - loadConfig() throws ConfigError whose message names every bad variable and what is expected;
 * - with no WHISPER_ADMIN_TOKEN a random token is generated (`tokenGenerated: true`) and the server must
 *   listen on a loopback address only; a non-loopback host without a token is a ConfigError;
 * - getConfig() caches the result on globalThis, so every Next bundle of one process (instrumentation and
 *   route handlers are bundled apart) sees the same config, including the same generated token.
 */

/**
 * Topic names: safe as a URL path segment, a NATS subject and a JetStream filter (no wildcards or spaces);
 * the same rule as the data layer's (server/services/topics.ts).
 */
export const topicNameSchema = z
  .string()
  .min(1, "a topic name is required")
  .max(200, "a topic name has at most 200 characters")
  .regex(
    /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/,
    "a topic name is letters, digits, '_' and '-' in dot-separated parts (no spaces or wildcards)",
  );

export interface ManagedTopicSpec {
  name: string;
  ordering: boolean;
}

const busSchema = z
  .string()
  .trim()
  .min(1)
  .refine((value) => /^[a-z][a-z0-9+.-]*:/i.test(value), "must be a driver URL such as eventbus: or nats://127.0.0.1:4222")
  .refine((value) => {
    try {
      new URL(value);
      return true;
    } catch {
      return false;
    }
  }, "is not a valid URL");

const topicsSchema = z
  .string()
  .default("")
  .transform((value, ctx): ManagedTopicSpec[] => {
    const specs: ManagedTopicSpec[] = [];
    for (const raw of value.split(",").map((s) => s.trim()).filter(Boolean)) {
      const [name = "", flag, ...rest] = raw.split(":");
      const parsedName = topicNameSchema.safeParse(name);
      if (!parsedName.success || rest.length > 0 || (flag !== undefined && flag !== "ordered")) {
        ctx.addIssue({
          code: "custom",
          message: `"${raw}" is not "name" or "name:ordered"${parsedName.success ? "" : ` (${parsedName.error.issues[0]?.message})`}`,
        });
        continue;
      }
      if (specs.some((s) => s.name === name)) {
        ctx.addIssue({ code: "custom", message: `topic "${name}" is listed twice` });
        continue;
      }
      specs.push({ name, ordering: flag === "ordered" });
    }
    return specs;
  });

/** A whole number of `unit` from the environment, at least `min` (and at most `max`), else `fallback`. */
function wholeNumber(unit: string, min: number, fallback: number, max = Number.MAX_SAFE_INTEGER) {
  return z.coerce
    .number({ error: `must be a number of ${unit}` })
    .int(`must be a whole number of ${unit}`)
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .default(fallback);
}

const envSchema = z.object({
  WHISPER_BUS: busSchema.default("eventbus:"),
  DATABASE_URL: z
    .string({ error: "is required (a PostgreSQL URL such as postgresql://user@127.0.0.1:5432/whisper)" })
    .trim()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL"),
  WHISPER_TOPICS: topicsSchema,
  WHISPER_ADMIN_TOKEN: z
    .string()
    .trim()
    .min(16, "must be at least 16 characters (or leave it unset to have one generated)")
    .optional(),
  WHISPER_VIEWER_TOKEN: z
    .string()
    .trim()
    .min(16, "must be at least 16 characters (or leave it unset: no viewer access)")
    .optional(),
  WHISPER_TRUSTED_ORIGINS: z
    .string()
    .default("")
    .transform((value, ctx) => listOf(value, ctx, (item) => {
      try {
        const url = new URL(item);
        return /^https?:$/.test(url.protocol) && url.origin === item.replace(/\/$/, "") ? url.origin : undefined;
      } catch {
        return undefined;
      }
    }, "an origin such as https://whisper.example.com (scheme, host and port only)")),
  WHISPER_TRUSTED_PROXIES: z
    .string()
    .default("")
    .transform((value, ctx) => listOf(value, ctx, (item) => (isIP(item) ? item : undefined), "an IP address")),
  WHISPER_SESSION_IDLE_MINUTES: z.coerce
    .number({ error: "must be a number of minutes" })
    .int("must be a whole number of minutes")
    .min(1)
    .max(7 * 24 * 60)
    .default(httpDefaults.session.idleMs / 60_000),
  WHISPER_SESSION_MAX_HOURS: z.coerce
    .number({ error: "must be a number of hours" })
    .int("must be a whole number of hours")
    .min(1)
    .max(90 * 24)
    .default(httpDefaults.session.absoluteMs / 3_600_000),
  WHISPER_DEMO: z
    .enum(["0", "1", "true", "false", ""], { error: 'must be "1" (publish demo traffic) or "0"' })
    .default("0")
    .transform((value) => value === "1" || value === "true"),
  WHISPER_DEMO_RATE: z.coerce
    .number({ error: "must be a number" })
    .min(0.1, "must be at least 0.1")
    .max(100, "must be at most 100")
    .default(1),
  WHISPER_RECORDER_LAG_SECONDS: z.coerce.number({ error: "must be a number of seconds" }).positive().default(30),
  WHISPER_RECORDER_LAG_MESSAGES: z.coerce.number({ error: "must be a number" }).int().positive().default(10_000),
  WHISPER_PUBLISH_DEADLINE_MS: z.coerce
    .number({ error: "must be a number of milliseconds" })
    .int()
    .min(100, "must be at least 100 ms")
    .max(600_000, "must be at most 600000 ms")
    .default(5_000),
  // History retention (server/history/retention.ts); 0 = no limit of that kind. A topic's own setting wins.
  WHISPER_RETENTION_MAX_AGE_SECONDS: wholeNumber("seconds (0 = keep whatever the age)", 0, historyDefaults.retention.maxAgeSeconds),
  WHISPER_RETENTION_MAX_ROWS: wholeNumber("rows per topic (0 = no row limit)", 0, historyDefaults.retention.maxRows, 2_000_000_000),
  WHISPER_RETENTION_AUDIT_DAYS: wholeNumber("days (0 = keep the audit log forever)", 0, historyDefaults.retention.auditDays),
  WHISPER_RETENTION_INTERVAL_SECONDS: wholeNumber("seconds", 1, historyDefaults.retention.intervalSeconds),
  WHISPER_RECORDER_INSERT: z
    .enum(["copy", "staging", "unnest"], { error: 'must be "copy", "staging" or "unnest"' })
    .default("copy"),
  WHISPER_MAX_EVENT_BYTES: z.coerce
    .number({ error: "must be a number of bytes" })
    .int("must be a whole number of bytes")
    .min(1024, "must be at least 1024 bytes")
    .max(httpDefaults.body.eventsBytes, `must be at most ${httpDefaults.body.eventsBytes} bytes (the events route's body limit)`)
    .default(httpDefaults.maxEventBytes),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  HOSTNAME: z.string().trim().min(1).optional(),
  // The gRPC sidecar (server/sidecar/, docs/sidecar.md): off unless a port is set.
  WHISPER_GRPC_PORT: z.coerce.number({ error: "must be a TCP port" }).int("must be a TCP port").min(1).max(65535).optional(),
  WHISPER_GRPC_HOST: z.string().trim().min(1).optional(),
});

/** The variables `npm run sidecar` reads: the dashboard's, less the database (it runs without history). */
const sidecarEnvSchema = envSchema.omit({ DATABASE_URL: true });

/** A comma-separated list, each item checked by `parse` (undefined = invalid, reported with `expected`). */
function listOf(value: string, ctx: z.RefinementCtx, parse: (item: string) => string | undefined, expected: string): string[] {
  const items: string[] = [];
  for (const item of value.split(",").map((s) => s.trim()).filter(Boolean)) {
    const parsed = parse(item);
    if (parsed === undefined) ctx.addIssue({ code: "custom", message: `${JSON.stringify(item)} is not ${expected}` });
    else items.push(parsed);
  }
  return items;
}

export interface Config {
  bus: string;
  databaseUrl: string;
  topics: ManagedTopicSpec[];
  adminToken: string;
  /** WHISPER_VIEWER_TOKEN: read-only access (browse, inspect, live, audit); undefined = no viewers. */
  viewerToken: string | undefined;
  /**
   * Origins, besides the request's own Host, whose browser pages may make cookie-authenticated changes
   * (WHISPER_TRUSTED_ORIGINS): the public origin of a reverse proxy that rewrites Host.
   */
  trustedOrigins: string[];
  /** Reverse proxies whose X-Forwarded-For names the client (WHISPER_TRUSTED_PROXIES), for login throttling. */
  trustedProxies: string[];
  /** A session unused this long ends (ms). */
  sessionIdleMs: number;
  /** A session ends this long after login (ms). */
  sessionAbsoluteMs: number;
  /** True when no WHISPER_ADMIN_TOKEN was given and `adminToken` was generated at start. */
  tokenGenerated: boolean;
  port: number;
  /** The address the HTTP server binds to. */
  hostname: string;
  /** How the recorder inserts rows (server/history/writer.ts). */
  recorderInsert: "copy" | "staging" | "unnest";
  /** WHISPER_DEMO=1: publish demo traffic from start (server/demo.ts). */
  demo: boolean;
  /** WHISPER_DEMO_RATE: multiplier of the demo's event rate (1 = about 12 events a second). */
  demoRate: number;
  /** How long POST /api/topics/{topic}/events waits for the broker before answering (WHISPER_PUBLISH_DEADLINE_MS). */
  publishDeadlineMs: number;
  /** When a topic's recording counts as behind (health degraded, banners): WHISPER_RECORDER_LAG_SECONDS / _MESSAGES. */
  recorderLag: { seconds: number; messages: number };
  /** Largest single event the events route publishes (its structured encoding; 413 above). */
  maxEventBytes: number;
  /** History retention: WHISPER_RETENTION_MAX_AGE_SECONDS / _MAX_ROWS (defaults per topic), _AUDIT_DAYS, _INTERVAL_SECONDS. */
  retention: RetentionSettings;
  /** The gRPC sidecar: WHISPER_GRPC_PORT (undefined = not served) on WHISPER_GRPC_HOST (default: the dashboard's host). */
  grpc: GrpcSettings;
}

export interface GrpcSettings {
  port: number | undefined;
  host: string;
}

/** What the standalone sidecar (`npm run sidecar`: the core and the gRPC server, no Next, no database) needs. */
export type SidecarConfig = Pick<
  Config,
  "bus" | "topics" | "adminToken" | "viewerToken" | "tokenGenerated" | "maxEventBytes" | "publishDeadlineMs"
> & { grpc: { port: number; host: string } };

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost", "[::1]"]);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The host `next start` was given with -H/--hostname, if any (instrumentation runs in the server's process,
 * so its argv is the CLI's). Undefined when none was given, in which case Next binds every interface.
 */
export function hostnameFromArgv(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-H" || arg === "--hostname") return argv[i + 1];
    if (arg.startsWith("--hostname=")) return arg.slice("--hostname=".length);
  }
  return undefined;
}

/**
 * Parses the configuration. `argvHost` is the host the server was actually started with (see
 * hostnameFromArgv); when the process is a `next start` without -H it is "0.0.0.0".
 */
export function loadConfig(env: Record<string, string | undefined> = process.env, argvHost?: string): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  - ${issue.path.join(".") || "environment"}: ${issue.message}`);
    throw new ConfigError(`whisper: invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const hostname = argvHost ?? e.HOSTNAME ?? "127.0.0.1";
  const grpc = { port: e.WHISPER_GRPC_PORT, host: e.WHISPER_GRPC_HOST ?? hostname };
  const tokens = checkTokens(e, [hostname, ...(grpc.port === undefined ? [] : [grpc.host])], "bind 127.0.0.1 (next start -H 127.0.0.1)");
  return {
    bus: e.WHISPER_BUS,
    databaseUrl: e.DATABASE_URL,
    topics: e.WHISPER_TOPICS,
    ...tokens,
    trustedOrigins: e.WHISPER_TRUSTED_ORIGINS,
    trustedProxies: e.WHISPER_TRUSTED_PROXIES,
    sessionIdleMs: e.WHISPER_SESSION_IDLE_MINUTES * 60_000,
    sessionAbsoluteMs: e.WHISPER_SESSION_MAX_HOURS * 3_600_000,
    port: e.PORT,
    hostname,
    demo: e.WHISPER_DEMO,
    demoRate: e.WHISPER_DEMO_RATE,
    publishDeadlineMs: e.WHISPER_PUBLISH_DEADLINE_MS,
    recorderLag: { seconds: e.WHISPER_RECORDER_LAG_SECONDS, messages: e.WHISPER_RECORDER_LAG_MESSAGES },
    recorderInsert: e.WHISPER_RECORDER_INSERT,
    maxEventBytes: e.WHISPER_MAX_EVENT_BYTES,
    retention: {
      defaults: {
        maxAgeSeconds: e.WHISPER_RETENTION_MAX_AGE_SECONDS || null,
        maxRows: e.WHISPER_RETENTION_MAX_ROWS || null,
      },
      auditDays: e.WHISPER_RETENTION_AUDIT_DAYS || null,
      intervalMs: e.WHISPER_RETENTION_INTERVAL_SECONDS * 1000,
      batchRows: historyDefaults.retention.batchRows,
    },
    grpc,
  };
}

/**
 * The tokens of the admin and viewer roles. Without WHISPER_ADMIN_TOKEN one is generated, and then every
 * host served on (`hosts`) must be a loopback address (ConfigError naming `howToBind` otherwise); the viewer
 * token must differ from the admin's.
 */
function checkTokens(
  e: { WHISPER_ADMIN_TOKEN?: string; WHISPER_VIEWER_TOKEN?: string },
  hosts: string[],
  howToBind: string,
): Pick<Config, "adminToken" | "viewerToken" | "tokenGenerated"> {
  const tokenGenerated = e.WHISPER_ADMIN_TOKEN === undefined;
  const exposed = hosts.find((host) => !isLoopback(host));
  if (tokenGenerated && exposed !== undefined) {
    throw new ConfigError(`whisper: refusing to serve on ${exposed} without WHISPER_ADMIN_TOKEN: set a token, or ${howToBind}`);
  }
  if (e.WHISPER_VIEWER_TOKEN !== undefined && e.WHISPER_VIEWER_TOKEN === e.WHISPER_ADMIN_TOKEN) {
    throw new ConfigError("whisper: invalid configuration:\n  - WHISPER_VIEWER_TOKEN: must differ from WHISPER_ADMIN_TOKEN");
  }
  return { adminToken: e.WHISPER_ADMIN_TOKEN ?? randomBytes(24).toString("base64url"), viewerToken: e.WHISPER_VIEWER_TOKEN, tokenGenerated };
}

/**
 * The standalone sidecar's configuration (`npm run sidecar`): the dashboard's variables without DATABASE_URL;
 * WHISPER_GRPC_PORT is required, WHISPER_GRPC_HOST defaults to 127.0.0.1 (a pod sidecar serves its pod).
 * Throws ConfigError naming every bad variable.
 */
export function loadSidecarConfig(env: Record<string, string | undefined> = process.env): SidecarConfig {
  const parsed = sidecarEnvSchema.safeParse(env);
  const issues = parsed.success ? [] : parsed.error.issues.map((issue) => `  - ${issue.path.join(".") || "environment"}: ${issue.message}`);
  if (parsed.success && parsed.data.WHISPER_GRPC_PORT === undefined) issues.push("  - WHISPER_GRPC_PORT: is required (the port to serve gRPC on)");
  if (!parsed.success || issues.length > 0) throw new ConfigError(`whisper: invalid configuration:\n${issues.join("\n")}`);
  const e = parsed.data;
  const grpc = { port: e.WHISPER_GRPC_PORT!, host: e.WHISPER_GRPC_HOST ?? "127.0.0.1" };
  return {
    bus: e.WHISPER_BUS,
    topics: e.WHISPER_TOPICS,
    ...checkTokens(e, [grpc.host], "set WHISPER_GRPC_HOST=127.0.0.1"),
    maxEventBytes: e.WHISPER_MAX_EVENT_BYTES,
    publishDeadlineMs: e.WHISPER_PUBLISH_DEADLINE_MS,
    grpc,
  };
}

const CONFIG_KEY = Symbol.for("whisper.config");
type ConfigHolder = { [CONFIG_KEY]?: Config };

/** The process's config (parsed on first call, then shared through globalThis). Throws ConfigError. */
export function getConfig(): Config {
  const holder = globalThis as ConfigHolder;
  if (holder[CONFIG_KEY] === undefined) {
    // `next start` serves from its own process; without -H it binds every interface.
    const isNextServer = process.argv.includes("start");
    const argvHost = hostnameFromArgv(process.argv) ?? (isNextServer ? "0.0.0.0" : undefined);
    holder[CONFIG_KEY] = loadConfig(process.env, argvHost);
  }
  return holder[CONFIG_KEY];
}

/**
 * The topic URL of topic `name` on the bus `bus` (a driver URL base):
 * `eventbus:` → `eventbus:name`, `nats://h:p` → `nats://h:p/name`, `jetstream://h:p?stream=S` →
 * `jetstream://h:p/name?stream=S`. The base's query (e.g. `?bus=` or `?stream=`) is kept.
 */
export function topicUrl(bus: string, name: string): string {
  topicNameSchema.parse(name);
  const url = new URL(bus);
  const segment = encodeURIComponent(name);
  if (url.host === "" && !bus.slice(url.protocol.length).startsWith("//")) {
    // Opaque URL such as eventbus: — the topic is the whole path.
    return `${url.protocol}${segment}${url.search}`;
  }
  const base = url.pathname.replace(/\/+$/, "");
  url.pathname = `${base}/${segment}`;
  return url.href;
}
