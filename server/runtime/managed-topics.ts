import { deleteTopic, getTopic, upsertTopic } from "@/server/services/topics";
import { ConflictError, NotFoundError, UnavailableError } from "@/server/services/errors";
import type { Recorder } from "@/server/history/recorder";
import { count, getBus, openTopic, PublishError, type PauseEvent, type Topic } from "@whisper/core";
import { topicUrl, type Config } from "../config";
import { describe, redactUrl } from "./errors";

/** A topic this process manages: its core Topic (opened with its ordering flag) and what the runtime tracks. */
export interface ManagedTopic {
  name: string;
  url: string;
  ordering: boolean;
  topic: Topic;
  failing: boolean;
  /** Ids of messages already stored by a pause event; their rejections need no append. */
  stalledByPause: Set<string>;
  /** Ids being resent by a resume; a pause that rejects them is not a new stall. */
  resending: Set<string>;
}

export interface ManagedTopicsOptions {
  config: Config;
  recorder: Recorder;
  /** The core paused an ordering key of a managed topic (the stall keeper stores it). */
  onPause(managed: ManagedTopic, event: PauseEvent): void;
}

/** A start-up failure, with a message saying what to fix. */
export class StartupError extends Error {
  constructor(what: string, cause: unknown) {
    super(`${what}: ${describe(cause)}`, { cause });
    this.name = "StartupError";
  }
}

/**
 * The managed topics of this process. Contract:
 * - each managed topic has one open core Topic and one recorder subscription; open() does both or neither;
 * - add()/remove() also write the topics table; adopt() opens a topic another replica created (known to the
 *   database), release() closes one another replica deleted (the database row is already gone);
 * - errors are service errors (NotFoundError, ConflictError, UnavailableError) or StartupError at start.
 */
export class ManagedTopics {
  readonly #options: ManagedTopicsOptions;
  readonly #topics = new Map<string, ManagedTopic>();
  readonly #adopting = new Map<string, Promise<void>>();
  readonly #opening = new Map<string, Promise<ManagedTopic>>();

  constructor(options: ManagedTopicsOptions) {
    this.#options = options;
  }

  names(): string[] {
    return [...this.#topics.keys()];
  }

  all(): ManagedTopic[] {
    return [...this.#topics.values()];
  }

  get(name: string): ManagedTopic | undefined {
    return this.#topics.get(name);
  }

  /** The managed topic, or NotFoundError. */
  require(name: string): ManagedTopic {
    const managed = this.#topics.get(name);
    if (!managed) throw new NotFoundError("topic", name);
    return managed;
  }

  /**
   * Opens the core topic and the recorder's subscription; throws StartupError naming the broker. Concurrent
   * calls for one name (an add racing a catch-up's adopt) share one opening.
   */
  open(name: string, ordering: boolean): Promise<ManagedTopic> {
    const existing = this.#topics.get(name);
    if (existing) return Promise.resolve(existing);
    let opening = this.#opening.get(name);
    if (!opening) {
      opening = this.#openNow(name, ordering).finally(() => this.#opening.delete(name));
      this.#opening.set(name, opening);
    }
    return opening;
  }

  async #openNow(name: string, ordering: boolean): Promise<ManagedTopic> {
    const { config, recorder, onPause } = this.#options;
    const url = topicUrl(config.bus, name);
    let topic: Topic;
    try {
      topic = await openTopic(url, { ordering, use: [count()] });
    } catch (error) {
      throw new StartupError(`cannot open topic ${name} on the broker ${redactUrl(config.bus)} (WHISPER_BUS)`, error);
    }
    const managed: ManagedTopic = { name, url, ordering, topic, failing: false, stalledByPause: new Set(), resending: new Set() };
    topic.onPause((event) => onPause(managed, event));
    try {
      await recorder.watch(name, url);
    } catch (error) {
      await topic.close().catch(() => {});
      throw new StartupError(`cannot subscribe the recorder to topic ${name} on ${redactUrl(config.bus)}`, error);
    }
    this.#topics.set(name, managed);
    return managed;
  }

  /**
   * Makes sure this process manages `name`: a topic created through another replica exists in the database
   * but not here until adopted. NotFoundError if the database does not know it either.
   */
  async adopt(name: string): Promise<void> {
    if (this.#topics.has(name)) return;
    let adopting = this.#adopting.get(name);
    if (!adopting) {
      adopting = (async () => {
        const row = await getTopic(name);
        if (!row) throw new NotFoundError("topic", name);
        if (!this.#topics.has(name)) await this.open(name, row.ordering);
      })().finally(() => this.#adopting.delete(name));
      this.#adopting.set(name, adopting);
    }
    await adopting;
  }

  async add(name: string, ordering: boolean, actor: string): Promise<void> {
    if (this.#topics.has(name)) throw new ConflictError(`topic ${name} already exists`);
    await upsertTopic({ name, url: topicUrl(this.#options.config.bus, name), ordering, actor });
    try {
      await this.open(name, ordering);
    } catch (error) {
      await deleteTopic(name, actor).catch(() => {});
      throw new UnavailableError(`cannot open topic ${name}: ${describe(error)}`, { cause: error });
    }
  }

  /** Stops managing the topic and deletes it from the database (history stays); false if unknown. */
  async remove(name: string, actor: string): Promise<boolean> {
    const deleted = await deleteTopic(name, actor);
    const released = await this.release(name);
    return deleted || released;
  }

  /** Stops managing the topic here (its recorder subscription and core topic close); false if not managed. */
  async release(name: string): Promise<boolean> {
    const managed = this.#topics.get(name);
    if (!managed) return false;
    this.#topics.delete(name);
    await this.#options.recorder.unwatch(name);
    await managed.topic.close().catch((error) => console.error(`whisper: closing topic ${name}:`, describe(error)));
    if (managed.failing) this.bus()?.setFailure(name, undefined);
    return true;
  }

  /** Makes sends to the topic fail on purpose (in-process bus only); ConflictError on other buses. */
  setFailing(name: string, failing: boolean): void {
    const managed = this.require(name);
    const bus = this.bus();
    if (!bus) {
      throw new ConflictError(
        `failure injection needs the in-process bus (WHISPER_BUS=eventbus:); this server uses ${redactUrl(this.#options.config.bus)}`,
      );
    }
    bus.setFailure(
      name,
      failing ? new PublishError(`topic ${name} is failing on purpose (POST /api/topics/${name}/failure)`, true) : undefined,
    );
    managed.failing = failing;
  }

  /** The in-process bus of the managed topics, when the bus is `eventbus:`. */
  bus(): ReturnType<typeof getBus> | undefined {
    const bus = new URL(this.#options.config.bus);
    return bus.protocol === "eventbus:" ? getBus(bus.searchParams.get("bus") ?? "default") : undefined;
  }

  /** Flushes and closes every core topic (the recorder is closed by its owner). */
  async closeAll(): Promise<void> {
    await Promise.allSettled(this.all().map((m) => m.topic.close()));
  }
}
