import type {
  Driver,
  DriverCapabilities,
  DriverDelivery,
  DriverSubscription,
  DriverTopic,
  Message,
  SendOptions,
} from "@whisper/core";
import { ConnectionError, newId, PartialSendError, PublishError, registerDriver } from "@whisper/core";

const CAPABILITIES: DriverCapabilities = Object.freeze({
  nack: true,
  redelivery: true,
  ordering: true,
  persistence: false,
  sharedSubscriptions: false,
});

/** A ten-line-style fake driver for the portable layer's unit tests: records sends, fails on demand. */
export class FakeTopic implements DriverTopic {
  readonly capabilities = CAPABILITIES;
  readonly batches: Array<{ messages: Message[]; options: SendOptions }> = [];
  /** Every sendBatch call, failed ones included. */
  readonly calls: Message[][] = [];
  /**
   * Return an error to make that send fail (a PartialSendError fails part of it: the messages it does not
   * name are recorded as sent); undefined succeeds.
   */
  failWith: (messages: readonly Message[]) => Error | undefined = () => undefined;
  /** Awaited by every send before it settles: keeps sends in flight until the test lets them go. */
  hold: (() => Promise<void>) | undefined;
  inFlight = 0;
  maxInFlight = 0;
  closed = false;

  async sendBatch(messages: readonly Message[], options: SendOptions): Promise<void> {
    this.calls.push([...messages]);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.hold) await this.hold();
      const error = this.failWith(messages);
      const failed = error instanceof PartialSendError ? error.failures : undefined;
      const sent = error === undefined ? [...messages] : failed ? messages.filter((_, i) => !failed.has(i)) : [];
      if (sent.length > 0) this.batches.push({ messages: sent, options });
      if (error) throw error;
    } finally {
      this.inFlight--;
    }
  }
  isRetryable(error: unknown): boolean {
    return error instanceof PublishError && error.retryable;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  get sent(): Message[] {
    return this.batches.flatMap((b) => b.messages);
  }
}

export class FakeSubscription implements DriverSubscription {
  readonly capabilities = CAPABILITIES;
  readonly queue: DriverDelivery[] = [];
  readonly acked: unknown[] = [];
  readonly nacked: Array<{ id: unknown; delayMs: number }> = [];
  /** Settlements (acks or nacks) that reached this driver after close(): a contract violation. */
  readonly afterClose: string[] = [];
  /** Errors the next receiveBatch calls throw, one per call, before receiving works again. */
  readonly receiveErrors: Error[] = [];
  receiveCalls = 0;
  /** Make sendAcks / sendNacks reject with this error. */
  ackError: Error | undefined;
  nackError: Error | undefined;
  closed = false;
  #wake: (() => void) | undefined;

  deliver(messages: Message[], { attempt = 1, sequence }: { attempt?: number; sequence?: number } = {}): void {
    messages.forEach((message, i) =>
      this.queue.push({
        message,
        ackId: newId(),
        deliveryAttempt: attempt,
        ...(sequence === undefined ? {} : { sequence: sequence + i }),
      }),
    );
    this.#wake?.();
  }
  async receiveBatch(max: number, signal: AbortSignal): Promise<DriverDelivery[]> {
    this.receiveCalls++;
    const failure = this.receiveErrors.shift();
    if (failure) throw failure;
    while (this.queue.length === 0) {
      if (signal.aborted || this.closed) return [];
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener("abort", done);
          this.#wake = undefined;
          resolve();
        };
        this.#wake = done;
        signal.addEventListener("abort", done, { once: true });
      });
    }
    return this.queue.splice(0, max);
  }
  /** Connection errors are transient; anything else is not. */
  isRetryable(error: unknown): boolean {
    return error instanceof ConnectionError;
  }
  async sendAcks(ids: readonly unknown[]): Promise<void> {
    if (this.closed) this.afterClose.push(`ack ${ids.length}`);
    if (this.ackError) throw this.ackError;
    this.acked.push(...ids);
  }
  async sendNacks(ids: readonly unknown[], delayMs: number): Promise<void> {
    if (this.closed) this.afterClose.push(`nack ${ids.length}`);
    if (this.nackError) throw this.nackError;
    for (const id of ids) this.nacked.push({ id, delayMs });
  }
  async close(): Promise<void> {
    this.closed = true;
    this.#wake?.();
  }
}

/** Registers scheme `fake` whose topics/subscriptions are the given instances (latest created is exposed). */
export function installFakeDriver(): { topic: () => FakeTopic; subscription: () => FakeSubscription } {
  let topic: FakeTopic | undefined;
  let subscription: FakeSubscription | undefined;
  const driver: Driver = {
    async openTopic() {
      return (topic = new FakeTopic());
    },
    async openSubscription() {
      return (subscription = new FakeSubscription());
    },
  };
  registerDriver("fake", driver);
  return { topic: () => topic!, subscription: () => subscription! };
}
