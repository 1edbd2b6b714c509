import { randomUUID } from "node:crypto";
import type pg from "pg";
import { closeDb, db } from "@/server/db";
import { LagMonitor, type BrokerFigures } from "@/server/history/lag";
import { Recorder, recorderSubscriptionName, type RecorderTopicStats } from "@/server/history/recorder";
import { listTopics, upsertTopic } from "@/server/services/topics";
import { discardStalled, resumeStalled } from "@/server/services/ordering";
import { UnavailableError } from "@/server/services/errors";
import type { MessageSummary } from "@/server/services/types";
import { Message, type PausedKey } from "@whisper/core";
import { topicUrl, type Config } from "../config";
import { Metrics } from "../metrics";
import { LiveHub } from "../live/hub";
import { BrokerInfo, type SubscriptionInfo } from "./broker-info";
import { ControlPlane } from "./control-plane";
import { openControlTransport } from "./control-transport";
import { codeOf, describe, redactUrl } from "./errors";
import { ManagedTopics, StartupError, type ManagedTopic } from "./managed-topics";
import { publishWithin, type PublishOutcome } from "./publish-deadline";
import { applyControlEvent, catchUp, type ReplicaState } from "./replica-sync";
import { StallKeeper } from "./stalls";
import { ACTIVITY_SAMPLE_MS, ActivitySampler } from "./activity-sampler";

export type StartedBy = "instrumentation" | "route";

export const RECORDER_SUBSCRIPTION = "whisper-recorder";
const PAUSED_CODE = "ERR_ORDERING_KEY_PAUSED";
const SHUTDOWN_TIMEOUT_MS = 15_000;
/** How often the recorder's lag is sampled (recorder statistics + the broker's subscription figures). */
const LAG_SAMPLE_MS = 2_000;
/** How often a replica re-reads the topics and open stalls from the database (repairs a missed control event). */
const CATCH_UP_MS = 15_000;

/**
 * The one embedded whisper core of the process: the managed topics, the recorder, the stall keeper, the live
 * hub and the control plane shared with other replicas.
 *
 * Contract:
 * - start() connects to the database and the broker, opens every managed topic (stored ones plus
 *   WHISPER_TOPICS), pauses the keys that have open stalled entries, and joins the control plane; it throws
 *   StartupError naming what to fix;
 * - replicas on the same bus and database converge through the control plane: a topic created or deleted,
 *   a key paused or resumed, the failure toggle, live traffic; a replica re-reads topics and stalls from the
 *   database at start, after a reconnect of the control plane and every CATCH_UP_MS;
 * - errors thrown to callers are service errors (NotFoundError, ConflictError, UnavailableError) or the core's
 *   coded errors, never HTTP problems;
 * - shutdown() flushes topics, closes the recorder (committing what it holds), waits for stall writes, leaves
 *   the control plane and closes connections; idempotent and bounded by SHUTDOWN_TIMEOUT_MS.
 */
export class Runtime {
  readonly bootId = randomUUID();
  readonly startedAt = new Date();
  readonly hub = new LiveHub({ onClientsChanged: () => this.#control?.announce() });
  readonly metrics = new Metrics();
  readonly lag: LagMonitor;
  readonly #recorder: Recorder;
  readonly #stalls: StallKeeper;
  readonly #topics: ManagedTopics;
  readonly #broker: BrokerInfo;
  #control: ControlPlane | undefined;
  readonly #timers: NodeJS.Timeout[] = [];
  #sampling = false;
  #shutdown: Promise<void> | undefined;
  readonly #beforeShutdown: Array<() => Promise<void>> = [];

  private constructor(
    readonly config: Config,
    readonly startedBy: StartedBy,
    readonly pool: pg.Pool,
  ) {
    this.lag = new LagMonitor(config.recorderLag);
    this.#broker = new BrokerInfo(config.bus);
    this.#recorder = new Recorder({
      pool,
      method: config.recorderInsert,
      retention: config.retention,
      onRecorded: (topic: string, summaries: MessageSummary[]) => {
        this.metrics.recorded(topic, summaries);
        this.hub.publish(summaries);
        this.#control?.shareLive(summaries);
      },
      onError: (error, { topic, what }) => console.error(`whisper: recorder (${topic}, ${what}):`, describe(error)),
    });
    this.#stalls = new StallKeeper({
      metrics: this.metrics,
      onLocalPause: (topic, key, error) => this.#control?.publish({ kind: "key.paused", topic, key, error }),
    });
    this.#topics = new ManagedTopics({ config, recorder: this.#recorder, onPause: (m, e) => this.#stalls.onPause(m, e) });
  }

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
      throw new StartupError("cannot read the topics table; is the schema migrated (npx prisma migrate deploy)?", error);
    }
    // Managed topics: those stored (created earlier through the API) plus WHISPER_TOPICS; `:ordered` in the
    // environment turns ordering on, it never turns off ordering that was stored.
    const wanted = new Map<string, boolean>();
    for (const t of stored) wanted.set(t.name, t.ordering);
    for (const t of this.config.topics) wanted.set(t.name, t.ordering || (wanted.get(t.name) ?? false));
    for (const [name, ordering] of wanted) {
      await upsertTopic({ name, url: topicUrl(this.config.bus, name), ordering });
      await this.#topics.open(name, ordering);
    }
    await this.#stalls.syncStoredKeys(this.#topics.all());
    try {
      const transport = await openControlTransport(this.config.bus, this.config.databaseUrl, {
        onPayload: (payload) => this.#control?.receive(payload),
        onReconnect: () => void this.catchUp(),
        onError: (error) => console.error("whisper: control plane:", describe(error)),
      });
      this.#control = new ControlPlane({
        origin: this.bootId,
        transport,
        liveClients: () => this.hub.stats().clients,
        onEvent: (event) => void applyControlEvent(this.#replicaState(), event),
      });
    } catch (error) {
      throw new StartupError("cannot join the replicas' control channel", error);
    }
    this.#every(LAG_SAMPLE_MS, () => this.sampleLag());
    this.#every(CATCH_UP_MS, () => this.catchUp());
    const activity = new ActivitySampler({
      pool: this.pool,
      topics: () => this.#topics.names(),
      publishTotals: () => this.metrics.publishTotals(),
      lag: (topic) => this.lag.of(topic),
    });
    this.#every(ACTIVITY_SAMPLE_MS, () => activity.sample());
    await this.sampleLag();
  }

  #every(ms: number, task: () => Promise<void>): void {
    const timer = setInterval(() => void task().catch((error) => console.error("whisper:", describe(error))), ms);
    timer.unref();
    this.#timers.push(timer);
  }

  get shuttingDown(): boolean {
    return this.#shutdown !== undefined;
  }

  /** How this replica talks to the others ("nats" or "postgres") and how many it hears from. */
  replicas(): { transport: string | null; peers: number; sendFailures: number } {
    return { transport: this.#control?.transport ?? null, peers: this.#control?.peers() ?? 0, sendFailures: this.#control?.sendFailures ?? 0 };
  }

  topicNames(): string[] {
    return this.#topics.names();
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
    const managed = this.#topics.require(topicName);
    try {
      return await this.#publishCounted(managed, managed.topic.publish(message));
    } catch (error) {
      if (codeOf(error) === PAUSED_CODE && message.orderingKey !== undefined) await this.#stalls.rejected(managed, message, error);
      throw error;
    }
  }

  /**
   * Publishes `messages` in order and answers within `deadlineMs` (see publishWithin): each is published,
   * failed, or pending (its retries go on; the outcome is counted and logged); an ordered one not through by
   * then pauses its key and is stored on the ordering board.
   */
  async publishAll(topicName: string, messages: readonly Message[], deadlineMs = this.config.publishDeadlineMs): Promise<PublishOutcome[]> {
    await this.ensureTopic(topicName);
    const managed = this.#topics.require(topicName);
    const late = new Set<string>();
    return publishWithin(
      messages,
      (m) => {
        const result = this.publish(topicName, m);
        // Stored as stalled at the deadline but confirmed afterwards: not to be sent again by Resume.
        if (m.orderingKey !== undefined) {
          void result.then(() => late.has(m.id) && this.#stalls.delivered(topicName, m.orderingKey!, m.id), () => {});
        }
        return result;
      },
      deadlineMs,
      async (messagesLate, error) => {
        for (const m of messagesLate) late.add(m.id);
        await this.#stalls.timedOut(managed, messagesLate, error);
      },
    );
  }

  async #publishCounted(managed: ManagedTopic, result: PromiseLike<string>): Promise<string> {
    try {
      const id = await result;
      this.metrics.published(managed.name, "published");
      return id;
    } catch (error) {
      this.metrics.published(managed.name, "failed");
      throw error;
    }
  }

  /** Resumes a stalled entry: resends it first on its key (nothing overtakes it), then unpauses the key everywhere. */
  async resumeStall(stallId: string, actor: string) {
    return resumeStalled(stallId, actor, {
      resend: async (topic, key, messages) => {
        await this.ensureTopic(topic);
        const managed = this.#topics.require(topic);
        for (const m of messages) managed.resending.add(m.id);
        // Kept out of the catch-up's re-pausing while the entry is still open.
        const sends = this.#stalls.resuming(topic, key, async () =>
          Promise.allSettled(
            managed.topic.resumeWith(key, messages).map((result, i) =>
              this.#publishCounted(managed, result).finally(() => managed.resending.delete(messages[i]!.id)),
            ),
          ),
        );
        return messages.map((_, i) => sends.then((settled) => unwrap(settled[i]!)));
      },
      resumed: (topic, key) => this.#control?.publish({ kind: "key.resumed", topic, key }),
    });
  }

  /** Discards a stalled entry and unpauses its key here and on every replica. */
  async discardStall(stallId: string, actor: string) {
    return discardStalled(stallId, actor, (topic, key) => {
      this.#topics.get(topic)?.topic.resume(key);
      this.#control?.publish({ kind: "key.resumed", topic, key });
    });
  }

  /** Makes sure this process manages `name` (a topic created through another replica); NotFoundError if unknown. */
  async ensureTopic(name: string): Promise<void> {
    await this.#topics.adopt(name);
  }

  async addTopic(name: string, ordering: boolean, actor: string): Promise<void> {
    await this.#topics.add(name, ordering, actor);
    this.#control?.publish({ kind: "topic.created", topic: name, ordering });
  }

  /** Stops managing the topic everywhere and deletes its row (history stays); false if unknown. */
  async removeTopic(name: string, actor: string): Promise<boolean> {
    const removed = await this.#topics.remove(name, actor);
    if (removed) this.#control?.publish({ kind: "topic.deleted", topic: name });
    return removed;
  }

  /** Makes sends to the topic fail on purpose (in-process bus only), here and on every replica. */
  async setFailing(name: string, failing: boolean): Promise<void> {
    await this.ensureTopic(name);
    this.#topics.setFailing(name, failing);
    this.#control?.publish({ kind: "failure", topic: name, failing });
  }

  /** What the broker can tell about each subscription of each managed topic (null where it cannot). */
  async subscriptions(topic?: string): Promise<SubscriptionInfo[]> {
    const names = topic === undefined ? this.topicNames() : [this.#topics.require(topic).name];
    return this.#broker.figures(names, (t) => recorderSubscriptionName(RECORDER_SUBSCRIPTION, t));
  }

  recorderStats(): RecorderTopicStats[] {
    return this.#recorder.stats();
  }

  /** The ordering keys paused in this process's core for a managed topic (NotFoundError if not managed). */
  pausedKeys(name: string): PausedKey[] {
    return this.#topics.require(name).topic.pausedKeys();
  }

  /** Runs `task` first when shutting down (a server embedding the runtime stops taking calls), within the shutdown bound. */
  beforeShutdown(task: () => Promise<void>): void {
    this.#beforeShutdown.push(task);
  }

  /** Counts of paused keys per managed topic, for metrics. */
  pausedKeyCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const managed of this.#topics.all()) out[managed.name] = managed.topic.pausedKeys().length;
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

  /** Takes one lag sample (see LagMonitor); a broker that cannot answer leaves its figures unknown. */
  async sampleLag(): Promise<void> {
    if (this.#sampling) return;
    this.#sampling = true;
    try {
      const stats = this.recorderStats();
      const broker = new Map<string, BrokerFigures>();
      for (const info of await this.subscriptions()) {
        if (info.name === recorderSubscriptionName(RECORDER_SUBSCRIPTION, info.topic)) broker.set(info.topic, info);
      }
      this.lag.update({ stats, broker });
    } finally {
      this.#sampling = false;
    }
  }

  /** Re-reads the topics and the open stalls from the database: adopts, releases and pauses what differs. */
  async catchUp(): Promise<void> {
    if (!this.shuttingDown) await catchUp(this.#replicaState());
  }

  #replicaState(): ReplicaState {
    return { topics: this.#topics, stalls: this.#stalls, hub: this.hub, ensureTopic: (name) => this.ensureTopic(name) };
  }

  /** Flushes and closes everything. Idempotent; bounded by SHUTDOWN_TIMEOUT_MS. */
  shutdown(): Promise<void> {
    this.#shutdown ??= (async () => {
      for (const timer of this.#timers) clearInterval(timer);
      const work = (async () => {
        await Promise.allSettled(this.#beforeShutdown.map((task) => task()));
        await this.#topics.closeAll();
        await this.#recorder.close();
        await this.#stalls.flush();
        this.hub.close();
        await this.#control?.close().catch(() => {});
        await this.#broker.close();
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
}

/** Thrown to callers when the runtime is stopping. */
export function stopping(): UnavailableError {
  return new UnavailableError("the server is shutting down");
}

function unwrap<T>(settled: PromiseSettledResult<T>): T {
  if (settled.status === "fulfilled") return settled.value;
  throw settled.reason;
}
