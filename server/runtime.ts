import { randomUUID } from "node:crypto";
import type pg from "pg";
import { closeDb, db } from "@/server/db";
import { deleteTopic, getTopic, listTopics, upsertTopic } from "@/server/services/topics";
import { appendToStall, recordStall } from "@/server/services/ordering";
import { Recorder, recorderSubscriptionName, type RecorderTopicStats } from "@/server/history/recorder";
import { LagMonitor, type BrokerFigures } from "@/server/history/lag";
import { count, getBus, Message, openTopic, PublishError, wire, type PauseEvent, type Topic } from "@/server/whisper";
import { getConfig, topicUrl, type Config } from "./config";
import { conflict, notFound, unavailable } from "./http/problem";
import { LiveHub, type LiveSummary } from "./live/hub";
import { Metrics } from "./http/metrics";

/**
 * The one embedded whisper core of the process.
 *
 * Contract:
 * - one Runtime per process, kept with its start-up promise on globalThis: Next bundles instrumentation.ts
 *   and each route apart, so module-level singletons would be duplicated; everything (topics, the eventbus,
 *   the recorder, the live hub) is reached through this object, never through a route's own imports;
 * - getRuntime() resolves once start-up finished (whoever started it) or rejects with a 503 HttpProblem
 *   naming why start-up failed;
 * - each managed topic has one Topic (opened with its ordering flag) and one recorder subscription;
 * - when the core pauses an ordering key, the failed and queued messages are stored as a stalled entry
 *   (services/ordering.recordStall); a publish rejected because its key is paused is appended to that entry
 *   (appendToStall); both are written in order per topic and key, and publish() resolves or rejects only
 *   after the write, so a caller that saw a failure can read the stall right away;
 * - shutdown() flushes topics, closes the recorder (committing what it holds), and closes connections.
 */

export type StartedBy = "instrumentation" | "route";

export interface SubscriptionInfo {
  topic: string;
  name: string;
  pending: number | null;
  ackPending: number | null;
  redelivered: number | null;
}

interface ManagedTopic {
  name: string;
  url: string;
  ordering: boolean;
  topic: Topic;
  failing: boolean;
  /** Ids of messages already stored by recordStall (from a pause event); their rejections need no append. */
  stalledByPause: Set<string>;
  /** Ids being resent by a resume; a pause that rejects them is not a new stall. */
  resending: Set<string>;
}

export const RECORDER_SUBSCRIPTION = "whisper-recorder";
const PAUSED_CODE = "ERR_ORDERING_KEY_PAUSED";
const SHUTDOWN_TIMEOUT_MS = 15_000;
/** How often the recorder's lag is sampled (recorder statistics + the broker's subscription figures). */
const LAG_SAMPLE_MS = 2_000;

export class Runtime {
  readonly bootId = randomUUID();
  readonly startedAt = new Date();
  readonly hub = new LiveHub();
  readonly metrics = new Metrics();
  readonly #topics = new Map<string, ManagedTopic>();
  /** Serialises stall writes per topic + key. */
  readonly #stallChains = new Map<string, Promise<void>>();
  /** Topics being adopted from the database (see ensureTopic). */
  readonly #adopting = new Map<string, Promise<void>>();
  #recorder: Recorder | undefined;
  readonly lag: LagMonitor;
  #lagTimer: NodeJS.Timeout | undefined;
  #sampling = false;
  #shutdown: Promise<void> | undefined;
  #nats: { close(): Promise<void> } | undefined;
  #jsm: Promise<unknown> | undefined;

  private constructor(
    readonly config: Config,
    readonly startedBy: StartedBy,
    readonly pool: pg.Pool,
  ) {
    this.lag = new LagMonitor(config.recorderLag);
  }

  /** Connects to the database and the broker and opens every managed topic; throws StartupError. */
  static async start(config: Config, startedBy: StartedBy): Promise<Runtime> {
    const runtime = new Runtime(config, startedBy, db().pool);
    try {
      await runtime.#start();
      return runtime;
    } catch (error) {
      await runtime.shutdown().catch(() => {});
      throw error;
    }
  }

  async #start(): Promise<void> {
    try {
      await this.pool.query("select 1");
    } catch (error) {
      throw new StartupError(`cannot reach the database at ${redactUrl(this.config.databaseUrl)} (DATABASE_URL)`, error);
    }
    let stored: Array<{ name: string; ordering: boolean }>;
    try {
      stored = await listTopics();
    } catch (error) {
      throw new StartupError(
        "cannot read the topics table; is the schema migrated (npx prisma migrate deploy)?",
        error,
      );
    }
    this.#recorder = new Recorder({
      pool: this.pool,
      method: this.config.recorderInsert,
      onRecorded: (topic: string, summaries: LiveSummary[]) => {
        this.metrics.recorded(topic, summaries);
        this.hub.publish(summaries);
      },
      onError: (error, { topic, what }) => console.error(`whisper: recorder (${topic}, ${what}):`, describe(error)),
    });
    // Managed topics: those stored (created earlier through the API) plus WHISPER_TOPICS; `:ordered` in the
    // environment turns ordering on, it never turns off ordering that was stored.
    const wanted = new Map<string, boolean>();
    for (const t of stored) wanted.set(t.name, t.ordering);
    for (const t of this.config.topics) wanted.set(t.name, t.ordering || (wanted.get(t.name) ?? false));
    for (const [name, ordering] of wanted) {
      await upsertTopic({ name, url: topicUrl(this.config.bus, name), ordering });
      await this.#open(name, ordering);
    }
    this.#lagTimer = setInterval(() => void this.sampleLag(), LAG_SAMPLE_MS);
    this.#lagTimer.unref();
    await this.sampleLag();
  }

  /** Takes one lag sample (see LagMonitor); a broker that cannot answer leaves its figures unknown. */
  async sampleLag(): Promise<void> {
    if (this.#sampling) return;
    this.#sampling = true;
    try {
      await this.#sampleLag();
    } finally {
      this.#sampling = false;
    }
  }

  async #sampleLag(): Promise<void> {
    const stats = this.recorderStats();
    const broker = new Map<string, BrokerFigures>();
    try {
      for (const info of await this.subscriptions()) {
        if (info.name === recorderSubscriptionName(RECORDER_SUBSCRIPTION, info.topic)) broker.set(info.topic, info);
      }
    } catch (error) {
      console.error("whisper: cannot read the recorder's subscription figures:", describe(error));
    }
    this.lag.update({ stats, broker });
  }

  async #open(name: string, ordering: boolean): Promise<ManagedTopic> {
    const url = topicUrl(this.config.bus, name);
    let topic: Topic;
    try {
      topic = await openTopic(url, { ordering, use: [count()] });
    } catch (error) {
      throw new StartupError(`cannot open topic ${name} on the broker ${redactUrl(this.config.bus)} (WHISPER_BUS)`, error);
    }
    const managed: ManagedTopic = {
      name,
      url,
      ordering,
      topic,
      failing: false,
      stalledByPause: new Set(),
      resending: new Set(),
    };
    topic.onPause((event) => this.#onPause(managed, event));
    try {
      await this.#recorder!.watch(name, url);
    } catch (error) {
      await topic.close().catch(() => {});
      throw new StartupError(`cannot subscribe the recorder to topic ${name} on ${redactUrl(this.config.bus)}`, error);
    }
    this.#topics.set(name, managed);
    return managed;
  }

  get shuttingDown(): boolean {
    return this.#shutdown !== undefined;
  }

  topicNames(): string[] {
    return [...this.#topics.keys()];
  }

  /** Runtime state of a topic that the database does not know: paused keys in the core, the failure toggle. */
  topicState(name: string): { managed: boolean; pausedKeys: number; failing: boolean } {
    const managed = this.#topics.get(name);
    return {
      managed: managed !== undefined,
      pausedKeys: managed?.topic.pausedKeys().length ?? 0,
      failing: managed?.failing ?? false,
    };
  }

  /**
   * Publishes through the core. Resolves to the id; rejects with the core's coded error. A rejection because
   * the key is paused is stored as (part of) a stalled entry before this settles.
   */
  async publish(topicName: string, message: Message): Promise<string> {
    const managed = this.#managed(topicName);
    const own = ownMessage(message);
    try {
      return await this.#publishCounted(managed, own);
    } catch (error) {
      if (codeOf(error) === PAUSED_CODE && own.orderingKey !== undefined) {
        await this.#stalled(managed, own, error);
      }
      throw error;
    }
  }

  /** Publishes through the managed topic and counts the outcome in the metrics. */
  async #publishCounted(managed: ManagedTopic, message: Message): Promise<string> {
    try {
      const id = await managed.topic.publish(message);
      this.metrics.published(managed.name, "published");
      return id;
    } catch (error) {
      this.metrics.published(managed.name, "failed");
      throw error;
    }
  }

  /** Unpauses `key` on `topic` in this process's core; false if it was not paused here (or the topic is not open here). */
  resume(topicName: string, key: string): boolean {
    return this.#topics.get(topicName)?.topic.resume(key) ?? false;
  }

  /**
   * Publishes a message being resent by a resume. A failure is not recorded as a new stall (the entry being
   * resumed keeps the message); messages of other publishers rejected by the same pause still are.
   */
  async resend(topicName: string, message: Message): Promise<string> {
    const managed = this.#managed(topicName);
    const own = ownMessage(message);
    managed.resending.add(own.id);
    try {
      return await this.#publishCounted(managed, own);
    } finally {
      managed.resending.delete(own.id);
    }
  }

  /**
   * Makes sure this process manages `name`: a topic created through another replica exists in the database
   * but not here until adopted. Throws a 404 HttpProblem if the database does not know it either.
   */
  async ensureTopic(name: string): Promise<void> {
    if (this.#topics.has(name)) return;
    let adopting = this.#adopting.get(name);
    if (!adopting) {
      adopting = (async () => {
        const row = await getTopic(name);
        if (!row) throw notFound(`topic ${name} not found (create it with POST /api/topics)`);
        if (!this.#topics.has(name)) await this.#open(name, row.ordering);
      })().finally(() => this.#adopting.delete(name));
      this.#adopting.set(name, adopting);
    }
    await adopting;
  }

  async addTopic(name: string, ordering: boolean, actor: string): Promise<void> {
    if (this.#topics.has(name)) throw conflict(`topic ${name} already exists`);
    await upsertTopic({ name, url: topicUrl(this.config.bus, name), ordering, actor });
    try {
      await this.#open(name, ordering);
    } catch (error) {
      await deleteTopic(name, actor).catch(() => {});
      throw unavailable(`cannot open topic ${name}: ${describe(error)}`, error);
    }
  }

  /** Stops managing the topic and deletes it (with its history) from the database; false if unknown. */
  async removeTopic(name: string, actor: string): Promise<boolean> {
    const managed = this.#topics.get(name);
    const deleted = await deleteTopic(name, actor);
    if (managed) {
      this.#topics.delete(name);
      await this.#recorder?.unwatch(name);
      await managed.topic.close().catch((error) => console.error(`whisper: closing topic ${name}:`, describe(error)));
      if (managed.failing) this.#bus()?.setFailure(name, undefined);
    }
    return deleted || managed !== undefined;
  }

  /** Makes sends to the topic fail on purpose (in-process bus only). */
  setFailing(name: string, failing: boolean): void {
    const managed = this.#managed(name);
    const bus = this.#bus();
    if (!bus) throw conflict(`failure injection needs the in-process bus (WHISPER_BUS=eventbus:); this server uses ${redactUrl(this.config.bus)}`);
    bus.setFailure(
      name,
      failing ? new PublishError(`topic ${name} is failing on purpose (POST /api/topics/${name}/failure)`, true) : undefined,
    );
    managed.failing = failing;
  }

  /** What the driver can tell about each subscription of each managed topic (null where it cannot). */
  async subscriptions(topic?: string): Promise<SubscriptionInfo[]> {
    const names = topic === undefined ? this.topicNames() : [this.#managed(topic).name];
    const infos: SubscriptionInfo[] = names.map((name) => ({
      topic: name,
      name: recorderSubscriptionName(RECORDER_SUBSCRIPTION, name),
      pending: null,
      ackPending: null,
      redelivered: null,
    }));
    if (new URL(this.config.bus).protocol === "jetstream:") {
      try {
        return await this.#jetstreamConsumers(names);
      } catch (error) {
        console.error("whisper: cannot read JetStream consumer info:", describe(error));
      }
    }
    const bus = this.#bus();
    if (bus) {
      return names.flatMap((name) =>
        bus.subscriptionStats(name).map((s) => ({
          topic: name,
          name: s.name,
          pending: s.queued,
          ackPending: s.inFlight,
          redelivered: s.redelivered,
        })),
      );
    }
    return infos;
  }

  /**
   * JetStream consumer figures for the topics: the stream is the bus URL's `?stream=`, else the stream that
   * stores the topic's subject (as the driver finds it); consumers filtering on the subject (or on nothing)
   * are listed.
   */
  async #jetstreamConsumers(names: string[]): Promise<SubscriptionInfo[]> {
    const bus = new URL(this.config.bus);
    this.#jsm ??= (async () => {
      const { connect } = await import("@nats-io/transport-node");
      const { jetstreamManager } = await import("@nats-io/jetstream");
      const nc = await connect({
        servers: `${bus.hostname}:${bus.port || "4222"}`,
        name: "whisper-dashboard-info",
        ...(bus.username ? { user: decodeURIComponent(bus.username), pass: decodeURIComponent(bus.password) } : {}),
      });
      this.#nats = nc;
      return jetstreamManager(nc);
    })();
    this.#jsm.catch(() => (this.#jsm = undefined));
    const jsm = (await this.#jsm) as Awaited<ReturnType<typeof import("@nats-io/jetstream").jetstreamManager>>;
    const out: SubscriptionInfo[] = [];
    for (const name of names) {
      const stream = bus.searchParams.get("stream") ?? (await jsm.streams.find(name).catch(() => undefined));
      if (!stream) continue;
      for await (const consumer of jsm.consumers.list(stream)) {
        const filters = [consumer.config.filter_subject, ...(consumer.config.filter_subjects ?? [])].filter(
          (s): s is string => typeof s === "string" && s.length > 0,
        );
        if (filters.length > 0 && !filters.includes(name)) continue;
        out.push({
          topic: name,
          name: consumer.config.durable_name ?? consumer.name,
          pending: consumer.num_pending,
          ackPending: consumer.num_ack_pending,
          redelivered: consumer.num_redelivered,
        });
      }
    }
    return out;
  }

  recorderStats(): RecorderTopicStats[] {
    return this.#recorder?.stats() ?? [];
  }

  /** Counts of paused keys per managed topic, for metrics. */
  pausedKeyCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, managed] of this.#topics) out[name] = managed.topic.pausedKeys().length;
    return out;
  }

  async databaseHealthy(): Promise<{ ok: boolean; detail: string }> {
    try {
      await this.pool.query("select 1");
      return { ok: true, detail: "ok" };
    } catch (error) {
      return { ok: false, detail: `unreachable: ${describe(error)}` };
    }
  }

  /** Flushes and closes everything. Idempotent; bounded by SHUTDOWN_TIMEOUT_MS. */
  shutdown(): Promise<void> {
    this.#shutdown ??= (async () => {
      clearInterval(this.#lagTimer);
      const work = (async () => {
        await Promise.allSettled([...this.#topics.values()].map((m) => m.topic.close()));
        await this.#recorder?.close();
        await Promise.allSettled([...this.#stallChains.values()]);
        this.hub.close();
        await this.#nats?.close().catch(() => {});
        await closeDb().catch(() => {});
      })();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        work,
        new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            console.error(`whisper: shutdown did not finish within ${SHUTDOWN_TIMEOUT_MS} ms; exiting anyway`);
            resolve();
          }, SHUTDOWN_TIMEOUT_MS);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
    })();
    return this.#shutdown;
  }

  #managed(name: string): ManagedTopic {
    const managed = this.#topics.get(name);
    if (!managed) throw notFound(`topic ${name} is not managed by this server (create it with POST /api/topics)`);
    return managed;
  }

  #bus(): ReturnType<typeof getBus> | undefined {
    const bus = new URL(this.config.bus);
    return bus.protocol === "eventbus:" ? getBus(bus.searchParams.get("bus") ?? "default") : undefined;
  }

  #onPause(managed: ManagedTopic, event: PauseEvent): void {
    const messages = event.messages.filter((m) => !managed.resending.has(m.id));
    if (messages.length === 0) return;
    for (const m of messages) managed.stalledByPause.add(m.id);
    this.#chain(managed.name, event.orderingKey, () => recordStall(managed.name, { ...event, messages }));
  }

  async #stalled(managed: ManagedTopic, message: Message, error: unknown): Promise<void> {
    const key = message.orderingKey!;
    if (managed.stalledByPause.delete(message.id)) {
      await this.#stallChains.get(chainKey(managed.name, key));
      return;
    }
    const cause = (error as { cause?: unknown }).cause ?? error;
    await this.#chain(managed.name, key, () => appendToStall(managed.name, key, message, cause));
  }

  #chain(topic: string, key: string, write: () => Promise<void>): Promise<void> {
    const id = chainKey(topic, key);
    const next = (this.#stallChains.get(id) ?? Promise.resolve())
      .then(write)
      .then(
        () => this.metrics.stallWrite("ok"),
        (error) => {
          this.metrics.stallWrite("failed");
          console.error(`whisper: could not store stalled messages of ${topic} key ${key}:`, describe(error));
        },
      );
    this.#stallChains.set(id, next);
    void next.then(() => {
      if (this.#stallChains.get(id) === next) this.#stallChains.delete(id);
    });
    return next;
  }
}

function chainKey(topic: string, key: string): string {
  return `${topic}\u0000${key}`;
}

/** A start-up failure, with a message saying what to fix. */
export class StartupError extends Error {
  constructor(what: string, cause: unknown) {
    super(`${what}: ${describe(cause)}`, { cause });
    this.name = "StartupError";
  }
}

/**
 * The message as an instance of this bundle's Message class: a Message built by another bundle's copy of
 * the core is not `instanceof` ours, so it is re-read from its CloudEvents JSON (lossless: data or data_base64).
 */
function ownMessage(message: Message): Message {
  return message instanceof Message ? message : wire.fromStructured(JSON.parse(JSON.stringify(message)));
}

function codeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
}

export function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return error.message || (typeof code === "string" ? code : error.name);
  }
  return String(error);
}

/** The URL with any password removed. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.href;
  } catch {
    return url;
  }
}

// --- the per-process instance -------------------------------------------------------------------------

interface RuntimeSlot {
  promise: Promise<Runtime>;
  runtime?: Runtime;
  error?: unknown;
}
const SLOT = Symbol.for("whisper.runtime");
type SlotHolder = { [SLOT]?: RuntimeSlot };

/** Starts the runtime unless this process already did (or is doing) so; returns its start-up promise. */
export function startRuntime(startedBy: StartedBy): Promise<Runtime> {
  const holder = globalThis as SlotHolder;
  if (holder[SLOT]) return holder[SLOT].promise;
  const slot = {} as RuntimeSlot;
  slot.promise = (async () => Runtime.start(getConfig(), startedBy))().then(
    (runtime) => {
      slot.runtime = runtime;
      return runtime;
    },
    (error: unknown) => {
      slot.error = error;
      throw error;
    },
  );
  slot.promise.catch(() => {});
  holder[SLOT] = slot;
  return slot.promise;
}

/** The started runtime (waiting for start-up if it is under way); a 503 HttpProblem if start-up failed. */
export async function getRuntime(): Promise<Runtime> {
  try {
    const runtime = await startRuntime("route");
    if (runtime.shuttingDown) throw unavailable("the server is shutting down");
    return runtime;
  } catch (error) {
    if (error instanceof Error && error.name === "HttpProblem") throw error;
    throw unavailable(`whisper failed to start: ${describe(error)}`, error);
  }
}

/** The runtime if it has started, without waiting (for health and metrics). */
export function currentRuntime(): { runtime?: Runtime; error?: unknown; starting: boolean } {
  const slot = (globalThis as SlotHolder)[SLOT];
  return { runtime: slot?.runtime, error: slot?.error, starting: slot !== undefined && !slot.runtime && !slot.error };
}


const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };
const BOOTED = Symbol.for("whisper.runtime.booted");

/**
 * Boots the runtime for instrumentation.ts: start, print where to go (and the generated token), install the
 * shutdown handlers. A failed start prints the reason and exits the process with status 1.
 */
export async function bootRuntime(): Promise<void> {
  const holder = globalThis as { [BOOTED]?: true };
  if (holder[BOOTED]) return; // Next dev may run register() again after a reload; the runtime lives on.
  holder[BOOTED] = true;
  let runtime: Runtime;
  try {
    runtime = await startRuntime("instrumentation");
  } catch (error) {
    console.error(`\n${error instanceof Error && error.name === "ConfigError" ? error.message : `whisper: cannot start: ${describe(error)}`}\n`);
    process.exit(1);
  }
  if (runtime.config.demo) {
    const { demoFor } = await import("./demo");
    await demoFor(runtime)
      .start("system:demo")
      .then(
        (status) => console.log(`whisper: demo traffic on ${status.topics.join(", ")} (WHISPER_DEMO=1)`),
        (error: unknown) => console.error(`whisper: demo traffic did not start: ${describe(error)}`),
      );
  }
  const { hostname, port, tokenGenerated, adminToken, bus } = runtime.config;
  const host = hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]` : hostname;
  const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
  console.log(`whisper: dashboard at ${url} (bus ${redactUrl(bus)}, ${runtime.topicNames().length} topics)`);
  if (tokenGenerated) {
    console.log(`whisper: admin token (generated; set WHISPER_ADMIN_TOKEN to choose one): ${adminToken}`);
    console.log(`whisper: log in at ${url}/login, or send 'Authorization: Bearer ${adminToken}'`);
  }
  // Next's own signal handlers (absent with NEXT_MANUAL_SIG_HANDLE) close the server and exit at once; they
  // run after the runtime has flushed, so accepted publishes and held recorder batches are not lost.
  for (const signal of Object.keys(SIGNAL_EXIT) as NodeJS.Signals[]) {
    const previous = process.listeners(signal);
    process.removeAllListeners(signal);
    process.once(signal, () => {
      void runtime.shutdown().finally(() => {
        if (previous.length === 0) process.exit(SIGNAL_EXIT[signal]);
        for (const listener of previous) listener(signal);
      });
    });
  }
}
