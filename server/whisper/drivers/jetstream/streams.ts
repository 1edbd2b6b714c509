import type { JetStreamClient, JetStreamManager, StreamConfig, StreamInfo } from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import { defaults } from "../../defaults.js";
import { InvalidUrlError, NotFoundError, TimeoutError } from "../../errors.js";
import { boolSetting, intSetting, stringSetting } from "../nats/url.js";
import { ApiCodes, apiError, jittered, wrapApiError } from "./api.js";
import { lockStream } from "./lock.js";

/**
 * Streams and topics (docs/drivers-nats.md, "Streams and topics"): a `jetstream://…/<subject>?stream=S` URL
 * needs stream S to store <subject>. Many topics share one stream; the driver grows the subject list of the
 * streams it created and never touches any other stream, nor removes a subject, nor deletes a stream.
 */

/** Stream and consumer names: no spaces, dots, wildcards or slashes. */
export const NAME = /^[^\s.*>/\\]+$/;

export const STREAM_SETTINGS = ["stream", "create", "maxAgeMs", "maxBytes"] as const;

export interface StreamSettings {
  readonly stream: string | undefined;
  /** Create the stream when missing, and add subjects to it when it is whisper-managed. */
  readonly create: boolean;
  readonly maxAgeMs: number;
  readonly maxBytes: number;
}

export function streamSettings(url: URL, driver: Readonly<Record<string, unknown>> | undefined): StreamSettings {
  const stream = stringSetting(url, "stream", driver);
  if (stream !== undefined && !NAME.test(stream)) {
    throw new InvalidUrlError(url.href, `stream name "${stream}" may not contain spaces, ".", "*", ">" or slashes`);
  }
  return {
    stream,
    create: boolSetting(url, "create", driver, true),
    maxAgeMs: intSetting(url, "maxAgeMs", driver, 0, { allowZero: true }),
    maxBytes: intSetting(url, "maxBytes", driver, 0, { allowZero: true }),
  };
}

/**
 * The mark of a whisper-managed stream: this tag anywhere in its description (every server version keeps a
 * description; NATS 2.9 drops stream metadata), or the metadata key `whisper-managed: "true"` (2.10+).
 */
export const MANAGED_TAG = "[whisper-managed]";
const MANAGED_KEY = "whisper-managed";
const MANAGED_DESCRIPTION = `${MANAGED_TAG} whisper adds the subject of every topic opened on this stream; remove this tag to stop it`;

export function isManaged(config: Pick<StreamConfig, "description" | "metadata">): boolean {
  return (config.description ?? "").includes(MANAGED_TAG) || config.metadata?.[MANAGED_KEY] === "true";
}

/**
 * True if some subject matches both `a` and `b` (`*` is one token, `>` one or more trailing tokens). For a
 * literal `b` this is "`a` matches `b`": a stream storing `orders.*` stores `orders.eu`. For a wildcard
 * subscription it is what NATS 2.9 asks of a consumer filter: to overlap the stream's subjects.
 */
export function subjectsCollide(a: string, b: string): boolean {
  const x = a.split(".");
  const y = b.split(".");
  for (let i = 0; i < x.length && i < y.length; i++) {
    if (x[i] === ">" || y[i] === ">") return true;
    if (x[i] !== y[i] && x[i] !== "*" && y[i] !== "*") return false;
  }
  return x.length === y.length;
}

/** A stream that sources or mirrors others stores what they hold: the server decides, not its subject list. */
function stores(config: StreamConfig, subject: string): boolean {
  if (config.mirror || (config.sources?.length ?? 0) > 0) return true;
  return (config.subjects ?? []).some((s) => subjectsCollide(s, subject));
}

/** What ensureStream needs: one connection's clients, the server for messages, the URL for InvalidUrlError. */
export interface StreamContext {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly server: string;
  readonly url: string;
}

/**
 * Makes sure stream `settings.stream` exists and stores `subject`. Contract:
 * - missing: created storing `subject`, with the limits and the whisper-managed mark; `create=false` →
 *   NotFoundError. Created meanwhile by another process: treated as existing;
 * - one of its subjects (wildcards included) covers `subject`, or it sources/mirrors other streams: used as is;
 * - else, whisper-managed: `subject` is appended to its subjects, under a lock shared by all processes, and
 *   re-read until present (bounded); not managed, or `create=false` → NotFoundError naming the stream, the
 *   subject and why; another stream stores `subject` → InvalidUrlError naming that stream;
 * - the limits of an existing stream are never changed; nothing here removes a subject or deletes a stream.
 */
export async function ensureStream(ctx: StreamContext, settings: StreamSettings, subject: string): Promise<void> {
  const name = settings.stream!;
  let info = await lookup(ctx, name);
  if (info === undefined) {
    if (!settings.create) throw new NotFoundError(`JetStream stream ${name} on ${ctx.server} (create=false)`);
    if (await createStream(ctx, settings, subject)) return;
    info = await found(ctx, name, subject);
  }
  if (stores(info.config, subject)) return;
  refuse(ctx, info.config, settings, subject);
  // One addition at a time per connection and stream: in-process callers queue instead of polling the lock.
  await serially(ctx.nc, name, () => addSubject(ctx, settings, subject));
}

async function lookup(ctx: StreamContext, name: string): Promise<StreamInfo | undefined> {
  try {
    return await ctx.jsm.streams.info(name);
  } catch (error) {
    if (apiError(error)?.code === ApiCodes.StreamNotFound) return undefined;
    throw wrapApiError(error, ctx.server, `JetStream stream ${name}`);
  }
}

async function found(ctx: StreamContext, name: string, subject: string): Promise<StreamInfo> {
  const info = await lookup(ctx, name);
  if (info === undefined) {
    throw new NotFoundError(`JetStream stream ${name} on ${ctx.server} (deleted while opening subject ${subject})`);
  }
  return info;
}

/** Throws NotFoundError unless the driver may add `subject` to this stream. */
function refuse(ctx: StreamContext, config: StreamConfig, settings: StreamSettings, subject: string): void {
  const where = `subject ${subject} in JetStream stream ${config.name} on ${ctx.server}`;
  if (!settings.create) {
    throw new NotFoundError(`${where} (the stream does not store it, and create=false forbids adding it)`);
  }
  if (!isManaged(config)) {
    throw new NotFoundError(
      `${where} (the stream does not store it and whisper did not create it, so whisper leaves its subjects alone: add the subject to the stream, or put ${MANAGED_TAG} in its description to let whisper manage it)`,
    );
  }
}

/** Creates the stream; false if it exists already (another process created it first). */
async function createStream(ctx: StreamContext, settings: StreamSettings, subject: string): Promise<boolean> {
  const config: Partial<StreamConfig> & { name: string } = {
    name: settings.stream!,
    subjects: [subject],
    description: MANAGED_DESCRIPTION,
    max_age: settings.maxAgeMs > 0 ? nanos(settings.maxAgeMs) : 0,
    max_bytes: settings.maxBytes > 0 ? settings.maxBytes : -1,
  };
  if (keepsMetadata(ctx.nc)) config.metadata = { [MANAGED_KEY]: "true" };
  try {
    await ctx.jsm.streams.add(config);
    return true;
  } catch (error) {
    const code = apiError(error)?.code;
    if (code === ApiCodes.StreamNameExist) return false;
    if (code === ApiCodes.StreamSubjectOverlap) throw await storedElsewhere(ctx, config.name, subject, error);
    throw wrapApiError(error, ctx.server, `JetStream stream ${config.name}`);
  }
}

/** Stream metadata arrived in NATS 2.10; older servers drop it (and the client refuses to send it). */
function keepsMetadata(nc: NatsConnection): boolean {
  const [major = 0, minor = 0] = (nc.info?.version ?? "0.0").split(".").map(Number);
  return major > 2 || (major === 2 && minor >= 10);
}

async function storedElsewhere(ctx: StreamContext, stream: string, subject: string, cause: unknown) {
  const other = await ctx.jsm.streams.find(subject).catch(() => undefined);
  return new InvalidUrlError(
    ctx.url,
    `subject ${subject} is stored by ${other ? `JetStream stream ${other}` : "another JetStream stream"}, and a subject belongs to one stream only, so stream ${stream} cannot store it${other ? ` (use ?stream=${other})` : ""}`,
    { cause },
  );
}

/**
 * Appends `subject` to the stream's subjects and re-reads the stream until it is there. The read-modify-write
 * runs under the stream's cross-process lock, so no other whisper replaces the list meanwhile; should the
 * lock be unavailable, a subject lost to a concurrent update is noticed on the re-read and added again.
 */
async function addSubject(ctx: StreamContext, settings: StreamSettings, subject: string): Promise<void> {
  const name = settings.stream!;
  const started = Date.now();
  const unlock = await lockStream(ctx.js, ctx.jsm, name);
  try {
    for (let attempt = 1; ; attempt++) {
      const { config } = await found(ctx, name, subject);
      if (stores(config, subject)) return;
      refuse(ctx, config, settings, subject); // the mark may have been removed meanwhile
      if (attempt > defaults.jetstream.streamUpdateAttempts) {
        throw new TimeoutError(
          `adding subject ${subject} to JetStream stream ${name} (${attempt - 1} updates lost to concurrent ones)`,
          Date.now() - started,
        );
      }
      if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, jittered(defaults.jetstream.streamRetryDelayMs)));
      try {
        await ctx.jsm.streams.update(name, { subjects: [...(config.subjects ?? []), subject] });
      } catch (error) {
        if (apiError(error)?.code === ApiCodes.StreamSubjectOverlap) throw await storedElsewhere(ctx, name, subject, error);
        throw wrapApiError(error, ctx.server, `JetStream stream ${name}`);
      }
    }
  } finally {
    await unlock?.();
  }
}

const queues = new WeakMap<object, Map<string, Promise<unknown>>>();

/** Runs `task` after every earlier task of the same owner and key has settled. */
function serially<T>(owner: object, key: string, task: () => Promise<T>): Promise<T> {
  let byKey = queues.get(owner);
  if (byKey === undefined) queues.set(owner, (byKey = new Map()));
  const run = (byKey.get(key) ?? Promise.resolve()).then(task);
  const tail = run.then(
    () => {},
    () => {},
  );
  byKey.set(key, tail);
  void tail.then(() => {
    if (byKey.get(key) === tail) byKey.delete(key);
  });
  return run;
}
