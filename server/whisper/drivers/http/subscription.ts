import type { DriverCapabilities, DriverDelivery, DriverSubscription } from "../../driver.js";
import { join, type Membership } from "./listener.js";
import type { SubscriptionSettings } from "./options.js";
import { Delivery, type Member } from "./receiver.js";
import { Wakeup } from "../wakeup.js";

/**
 * A subscription listening for CloudEvents on one path of a shared local HTTP server.
 *
 * Contract: each accepted request's messages are handed out by receiveBatch in arrival order; the request is
 * answered once its messages are settled: 204 if all were acked, 503 (Retry-After = the nack delay) if any
 * was nacked, 503 if any was still unsettled at the ack deadline. A nack therefore means "sender, retry";
 * the redelivery is the sender's. close() leaves the path: deliveries it still holds are nacked, and the
 * shared server stops when its last path closes.
 */
export class HttpSubscription implements DriverSubscription, Member {
  readonly #held = new Set<Delivery>();
  #membership!: Membership;
  readonly #wakeup = new Wakeup();
  #closed = false;

  private constructor(readonly capabilities: DriverCapabilities) {}

  /** Joins group `name` on the settings' path. Throws ConnectionError when the address cannot be bound. */
  static async open(
    capabilities: DriverCapabilities,
    settings: SubscriptionSettings,
    name: string,
    ackDeadlineMs: number,
  ): Promise<HttpSubscription> {
    const subscription = new HttpSubscription(capabilities);
    subscription.#membership = await join(settings, name, subscription, ackDeadlineMs);
    return subscription;
  }

  wake(): void {
    this.#wakeup.wake();
  }

  forget(delivery: Delivery): void {
    this.#held.delete(delivery);
  }

  async receiveBatch(maxMessages: number, signal: AbortSignal): Promise<DriverDelivery[]> {
    for (;;) {
      if (this.#closed || signal.aborted) return [];
      const taken = this.#membership.group.take(this, maxMessages);
      if (taken.length > 0) {
        for (const delivery of taken) this.#held.add(delivery);
        return taken.map((d) => ({ message: d.message, ackId: d, deliveryAttempt: d.attempt }));
      }
      await this.#wakeup.wait(signal);
    }
  }

  /** receiveBatch never throws: it takes what the local server queued. */
  isRetryable(): boolean {
    return false;
  }

  async sendAcks(ackIds: readonly unknown[]): Promise<void> {
    for (const id of ackIds) if (id instanceof Delivery && id.holder === this) id.settle("ack");
  }

  async sendNacks(ackIds: readonly unknown[], delayMs: number): Promise<void> {
    for (const id of ackIds) if (id instanceof Delivery && id.holder === this) id.settle("nack", delayMs);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const delivery of [...this.#held]) delivery.settle("nack");
    this.wake();
    await this.#membership.leave();
  }
}
