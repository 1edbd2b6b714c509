import { getBus, natsServerAddress } from "@whisper/core";
import { describe } from "./errors";

/** What the broker can tell about one subscription of a managed topic (null where it cannot). */
export interface SubscriptionInfo {
  topic: string;
  name: string;
  pending: number | null;
  ackPending: number | null;
  redelivered: number | null;
}

/** How long a topic's stream, once found, is used without asking the server again. */
const STREAM_LOOKUP_TTL_MS = 60_000;

type JetStreamManager = Awaited<ReturnType<typeof import("@nats-io/jetstream").jetstreamManager>>;

/**
 * Broker figures of the subscriptions of managed topics: the in-process bus's own counts, JetStream consumer
 * info (over a connection of its own, with the bus URL's credentials as the drivers use them), or, where the
 * broker keeps nothing (core NATS), the names alone with null figures.
 * Contract: figures() never throws for a broker that cannot answer: it logs and returns what it knows.
 */
export class BrokerInfo {
  readonly #bus: URL;
  #jsm: Promise<{ jsm: JetStreamManager; close(): Promise<void> }> | undefined;
  /** Topic → the stream storing its subject (when the bus URL names none). */
  readonly #streams = new Map<string, { stream: string; until: number }>();

  constructor(bus: string) {
    this.#bus = new URL(bus);
  }

  async figures(topics: string[], fallbackName: (topic: string) => string): Promise<SubscriptionInfo[]> {
    if (this.#bus.protocol === "jetstream:") {
      try {
        return await this.#jetstreamConsumers(topics);
      } catch (error) {
        console.error("whisper: cannot read JetStream consumer info:", describe(error));
      }
    }
    if (this.#bus.protocol === "eventbus:") {
      const bus = getBus(this.#bus.searchParams.get("bus") ?? "default");
      return topics.flatMap((topic) =>
        bus.subscriptionStats(topic).map((s) => ({
          topic,
          name: s.name,
          pending: s.queued,
          ackPending: s.inFlight,
          redelivered: s.redelivered,
        })),
      );
    }
    return topics.map((topic) => ({ topic, name: fallbackName(topic), pending: null, ackPending: null, redelivered: null }));
  }

  async close(): Promise<void> {
    const opened = this.#jsm;
    this.#jsm = undefined;
    await opened?.then((o) => o.close()).catch(() => {});
  }

  /**
   * JetStream consumer figures: the stream is the bus URL's `?stream=`, else the stream that stores the topic's
   * subject (looked up once per STREAM_LOOKUP_TTL_MS per topic); consumers filtering on the subject (or on
   * nothing) are listed. Topics share streams, so each stream's consumers are listed once per call, whatever
   * the number of its topics, and assigned to the topics by their filter subject.
   */
  async #jetstreamConsumers(topics: string[]): Promise<SubscriptionInfo[]> {
    this.#jsm ??= (async () => {
      const { connect } = await import("@nats-io/transport-node");
      const { jetstreamManager } = await import("@nats-io/jetstream");
      const server = natsServerAddress(this.#bus);
      const nc = await connect({
        servers: server.hostport,
        name: "whisper-dashboard-info",
        ...(server.token !== undefined ? { token: server.token } : {}),
        ...(server.user !== undefined ? { user: server.user, pass: server.pass } : {}),
      });
      return { jsm: await jetstreamManager(nc), close: () => nc.close() };
    })();
    this.#jsm.catch(() => (this.#jsm = undefined));
    const { jsm } = await this.#jsm;
    const configured = this.#bus.searchParams.get("stream");
    const byStream = new Map<string, string[]>();
    for (const topic of topics) {
      const stream = configured ?? (await this.#streamOf(jsm, topic));
      if (!stream) continue;
      const streamTopics = byStream.get(stream);
      if (streamTopics) streamTopics.push(topic);
      else byStream.set(stream, [topic]);
    }
    const out: SubscriptionInfo[] = [];
    for (const [stream, streamTopics] of byStream) {
      const wanted = new Set(streamTopics);
      try {
        for await (const consumer of jsm.consumers.list(stream)) {
          const filters = [consumer.config.filter_subject, ...(consumer.config.filter_subjects ?? [])].filter(
            (s): s is string => typeof s === "string" && s.length > 0,
          );
          const matched = filters.length === 0 ? streamTopics : [...new Set(filters)].filter((f) => wanted.has(f));
          for (const topic of matched) {
            out.push({
              topic,
              name: consumer.config.durable_name ?? consumer.name,
              pending: consumer.num_pending,
              ackPending: consumer.num_ack_pending,
              redelivered: consumer.num_redelivered,
            });
          }
        }
      } catch (error) {
        // The stream may be gone: look the topics up again next time.
        for (const topic of streamTopics) this.#streams.delete(topic);
        throw error;
      }
    }
    const order = new Map(topics.map((t, i) => [t, i]));
    return out.sort((a, b) => order.get(a.topic)! - order.get(b.topic)!);
  }

  /** The stream storing `topic`'s subject, remembered for STREAM_LOOKUP_TTL_MS; undefined when none does. */
  async #streamOf(jsm: JetStreamManager, topic: string): Promise<string | undefined> {
    const known = this.#streams.get(topic);
    if (known && known.until > Date.now()) return known.stream;
    const stream = await jsm.streams.find(topic).catch(() => undefined);
    if (stream) this.#streams.set(topic, { stream, until: Date.now() + STREAM_LOOKUP_TTL_MS });
    else this.#streams.delete(topic);
    return stream;
  }
}
