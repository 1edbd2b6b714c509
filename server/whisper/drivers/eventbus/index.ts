import type {
  Driver,
  DriverCapabilities,
  DriverDelivery,
  DriverSubscription,
  DriverSubscriptionOptions,
  DriverTopic,
} from "../../driver.js";
import { InvalidUrlError, PublishError } from "../../errors.js";
import type { Message } from "../../message.js";
import { newId } from "../../message.js";
import { defaults } from "../../defaults.js";
import { getBus, type Bus, type Group, type Member } from "./bus.js";
import { Wakeup } from "../wakeup.js";

/**
 * The in-process driver, `eventbus:<topic>[?bus=<name>]`. No server; at-least-once within the process
 * (nack, ack deadline and a member leaving all redeliver), nothing kept when no subscription exists.
 */
export const eventbusCapabilities: DriverCapabilities = Object.freeze({
  nack: true,
  redelivery: true,
  ordering: true,
  persistence: false,
  sharedSubscriptions: true,
});

/** URL query settings this driver reads; any other is a mistake worth an error, not silence. */
const SETTINGS = new Set(["bus", "maxQueued"]);

function parse(url: URL): { bus: Bus; topic: string } {
  const topic = decodeURIComponent(url.pathname.replace(/^\/+/, ""));
  if (topic.length === 0) throw new InvalidUrlError(url.href, "missing topic name (expected eventbus:<topic>)");
  for (const name of url.searchParams.keys()) {
    if (!SETTINGS.has(name)) {
      throw new InvalidUrlError(url.href, `unknown setting "${name}" (eventbus: knows ${[...SETTINGS].join(", ")})`);
    }
  }
  return { bus: getBus(url.searchParams.get("bus") ?? "default"), topic };
}

class EventbusTopic implements DriverTopic {
  readonly capabilities = eventbusCapabilities;
  constructor(
    readonly bus: Bus,
    readonly topic: string,
  ) {}

  async sendBatch(messages: readonly Message[]): Promise<void> {
    this.bus.send(this.topic, messages);
  }

  isRetryable(error: unknown): boolean {
    return error instanceof PublishError && error.retryable;
  }

  async close(): Promise<void> {}
}

class EventbusSubscription implements DriverSubscription, Member {
  readonly capabilities = eventbusCapabilities;
  readonly #group: Group;
  readonly #wakeup = new Wakeup();
  #closed = false;

  constructor(
    readonly bus: Bus,
    readonly topic: string,
    readonly groupName: string,
    ackDeadlineMs: number,
    maxQueued: number,
  ) {
    this.#group = bus.join(topic, groupName, this, ackDeadlineMs, maxQueued);
  }

  wake(): void {
    this.#wakeup.wake();
  }

  async receiveBatch(maxMessages: number, signal: AbortSignal): Promise<DriverDelivery[]> {
    for (;;) {
      if (this.#closed || signal.aborted) return [];
      const entries = this.#group.take(this, maxMessages);
      if (entries.length > 0) return entries;
      await this.#wakeup.wait(signal);
    }
  }

  /** receiveBatch never throws: the bus is in this process. */
  isRetryable(): boolean {
    return false;
  }

  async sendAcks(ackIds: readonly unknown[]): Promise<void> {
    this.#group.ack(ackIds);
  }

  async sendNacks(ackIds: readonly unknown[], delayMs: number): Promise<void> {
    this.#group.nack(ackIds, delayMs);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.bus.leave(this.topic, this.groupName, this);
    this.wake();
  }
}

export const eventbusDriver: Driver = {
  async openTopic(url) {
    const { bus, topic } = parse(url);
    return new EventbusTopic(bus, topic);
  },
  async openSubscription(url, options: DriverSubscriptionOptions) {
    const { bus, topic } = parse(url);
    const maxQueued = Number(url.searchParams.get("maxQueued") ?? options.driver?.maxQueued ?? defaults.eventbus.maxQueuedPerSubscription);
    if (!Number.isInteger(maxQueued) || maxQueued <= 0) {
      throw new InvalidUrlError(url.href, "maxQueued must be a positive integer");
    }
    return new EventbusSubscription(bus, topic, options.name ?? `private-${newId()}`, options.ackDeadlineMs, maxQueued);
  },
};

export { getBus };
