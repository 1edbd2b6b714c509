import {
  count,
  openSubscription,
  openTopic,
  type Message,
  type Subscription,
  type SubscriptionOptions,
  type Topic,
} from "@whisper/core";
import { topicUrl, type SidecarConfig } from "@/server/config";
import { publishWithin } from "@/server/runtime/publish-deadline";
import { describe, redactUrl } from "@/server/runtime/errors";
import { NotFoundError } from "@/server/services/errors";
import type { PausedKeyInfo, PublishOutcome, SidecarBackend, TopicInfo } from "./backend";

/**
 * The sidecar without the dashboard (`npm run sidecar`): the core alone on WHISPER_BUS, managing the topics of
 * WHISPER_TOPICS. No database, so no history, no ordering board and no replicas' control plane:
 * - an ordered event not confirmed within the publish deadline pauses its key (as in the dashboard), but the
 *   stalled messages are not kept: Resume only unpauses the key, the publisher sends again what failed;
 * - topics are those of WHISPER_TOPICS (others are NOT_FOUND).
 */
export class StandaloneBackend implements SidecarBackend {
  readonly #topics = new Map<string, { topic: Topic; ordering: boolean }>();

  private constructor(readonly config: SidecarConfig) {}

  /** Opens every topic of WHISPER_TOPICS; throws an error naming the topic and the bus when one cannot be opened. */
  static async open(config: SidecarConfig): Promise<StandaloneBackend> {
    const backend = new StandaloneBackend(config);
    try {
      for (const { name, ordering } of config.topics) {
        try {
          backend.#topics.set(name, { topic: await openTopic(topicUrl(config.bus, name), { ordering, use: [count()] }), ordering });
        } catch (error) {
          throw new Error(`cannot open topic ${name} on ${redactUrl(config.bus)} (WHISPER_BUS): ${describe(error)}`, { cause: error });
        }
      }
    } catch (error) {
      await backend.close();
      throw error;
    }
    return backend;
  }

  get settings() {
    const { adminToken, viewerToken, maxEventBytes } = this.config;
    return { adminToken, viewerToken, maxEventBytes };
  }

  #require(name: string): Topic {
    const managed = this.#topics.get(name);
    if (!managed) throw new NotFoundError("topic", name);
    return managed.topic;
  }

  async publish(name: string, messages: readonly Message[]): Promise<PublishOutcome[]> {
    const topic = this.#require(name);
    return publishWithin(messages, (m) => topic.publish(m).get(), this.config.publishDeadlineMs, async (late, error) => {
      topic.pause(late[0]!.orderingKey!, error);
    });
  }

  async subscribe(name: string, options: { name: string | undefined; maxInFlight: number }): Promise<Subscription> {
    this.#require(name);
    return openSubscription(topicUrl(this.config.bus, name), subscriptionOptions(options));
  }

  async resume(name: string, key: string): Promise<PublishOutcome[]> {
    if (!this.#require(name).resume(key)) throw new NotFoundError("paused ordering key", `${name}/${key}`);
    return [];
  }

  async pausedKeys(name: string): Promise<PausedKeyInfo[]> {
    return this.#require(name)
      .pausedKeys()
      .map((p) => ({ orderingKey: p.orderingKey, error: describe(p.error), stalledMessages: 0 }));
  }

  async listTopics(): Promise<TopicInfo[]> {
    return [...this.#topics].map(([name, { topic, ordering }]) => ({ name, ordering, pausedKeys: topic.pausedKeys().length }));
  }

  reservedSubscription(): boolean {
    return false;
  }

  /** Flushes and closes every topic. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#topics.values()].map(({ topic }) => topic.close()));
    this.#topics.clear();
  }
}

/** The core subscription options of a sidecar stream: at most `maxInFlight` messages held (and handled) at once. */
export function subscriptionOptions({ name, maxInFlight }: { name: string | undefined; maxInFlight: number }): SubscriptionOptions {
  return { name, concurrency: maxInFlight, maxOutstanding: maxInFlight, maxBatch: Math.min(maxInFlight, 256) };
}
