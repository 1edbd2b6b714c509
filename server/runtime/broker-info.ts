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
   * subject; consumers filtering on the subject (or on nothing) are listed.
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
    const out: SubscriptionInfo[] = [];
    const configured = this.#bus.searchParams.get("stream");
    for (const topic of topics) {
      const stream = configured ?? (await jsm.streams.find(topic).catch(() => undefined));
      if (!stream) continue;
      for await (const consumer of jsm.consumers.list(stream)) {
        const filters = [consumer.config.filter_subject, ...(consumer.config.filter_subjects ?? [])].filter(
          (s): s is string => typeof s === "string" && s.length > 0,
        );
        if (filters.length > 0 && !filters.includes(topic)) continue;
        out.push({
          topic,
          name: consumer.config.durable_name ?? consumer.name,
          pending: consumer.num_pending,
          ackPending: consumer.num_ack_pending,
          redelivered: consumer.num_redelivered,
        });
      }
    }
    return out;
  }
}
