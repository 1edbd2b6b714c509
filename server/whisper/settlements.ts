import type { DriverSubscription } from "./driver.js";
import { SettlementError, SubscriptionClosedError } from "./errors.js";

/** What settling one delivery needs: its CloudEvents id (for error reports) and the driver's ack handle. */
export interface Settleable {
  readonly id: string;
  readonly ackId: unknown;
}

/**
 * The acks and nacks of one subscription, batched per event-loop turn and sent to its driver in order, one
 * send at a time. Contract: every failed send is reported (a SettlementError naming the operation, the
 * message ids and ack ids, with the driver's error as cause) and never thrown; nothing reaches the driver
 * after close(): later settlements are reported as failed with a SubscriptionClosedError cause.
 */
export class Settlements {
  readonly #driver: DriverSubscription;
  readonly #subscription: string;
  readonly #report: (error: SettlementError) => void;
  #acks: Settleable[] = [];
  #nacks = new Map<number, Settleable[]>();
  #scheduled = false;
  #sending: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(driver: DriverSubscription, subscription: string, report: (error: SettlementError) => void) {
    this.#driver = driver;
    this.#subscription = subscription;
    this.#report = report;
  }

  ack(item: Settleable): void {
    this.#acks.push(item);
    this.#schedule();
  }

  nack(item: Settleable, delayMs: number): void {
    let items = this.#nacks.get(delayMs);
    if (!items) this.#nacks.set(delayMs, (items = []));
    items.push(item);
    this.#schedule();
  }

  /** Sends everything pending; resolves once every send so far has finished (failed ones reported). */
  flush(): Promise<void> {
    this.#scheduled = false;
    const acks = this.#acks;
    const nacks = this.#nacks;
    if (acks.length === 0 && nacks.size === 0) return this.#sending;
    this.#acks = [];
    this.#nacks = new Map();
    this.#sending = this.#sending.then(async () => {
      if (acks.length > 0) await this.#send("ack", acks, (ids) => this.#driver.sendAcks(ids));
      for (const [delayMs, items] of nacks) {
        await this.#send("nack", items, (ids) => this.#driver.sendNacks(ids, delayMs));
      }
    });
    return this.#sending;
  }

  /** Flushes, then refuses further sends: call just before the driver closes. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => void this.flush());
  }

  async #send(operation: "ack" | "nack", items: Settleable[], send: (ackIds: unknown[]) => Promise<void>) {
    const ackIds = items.map((item) => item.ackId);
    try {
      if (this.#closed) throw new SubscriptionClosedError(this.#subscription);
      await send(ackIds);
    } catch (cause) {
      this.#report(
        new SettlementError(
          operation,
          items.map((item) => item.id),
          ackIds,
          cause,
        ),
      );
    }
  }
}
