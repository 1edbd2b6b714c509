import type {
  Driver,
  DriverCapabilities,
  DriverDelivery,
  DriverSubscription,
  DriverTopic,
  Message,
  SendOptions,
} from "@/server/whisper";
import { newId, PublishError, registerDriver } from "@/server/whisper";

/** A ten-line-style fake driver for the portable layer's unit tests: records sends, fails on demand. */
export class FakeTopic implements DriverTopic {
  readonly capabilities: DriverCapabilities = {
    nack: true,
    redelivery: true,
    ordering: true,
    persistence: false,
    sharedSubscriptions: false,
  };
  readonly batches: Array<{ messages: Message[]; options: SendOptions }> = [];
  /** Return an error to make that send fail; undefined succeeds. */
  failWith: (messages: readonly Message[]) => Error | undefined = () => undefined;
  /** Delay before a send settles (ms). */
  delayMs = 0;
  inFlight = 0;
  maxInFlight = 0;
  closed = false;

  async sendBatch(messages: readonly Message[], options: SendOptions): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      const error = this.failWith(messages);
      if (error) throw error;
      this.batches.push({ messages: [...messages], options });
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
  readonly capabilities: DriverCapabilities = {
    nack: true,
    redelivery: true,
    ordering: true,
    persistence: false,
    sharedSubscriptions: false,
  };
  readonly queue: DriverDelivery[] = [];
  readonly acked: unknown[] = [];
  readonly nacked: Array<{ id: unknown; delayMs: number }> = [];
  closed = false;
  #wake: (() => void) | undefined;

  deliver(messages: Message[], attempt = 1): void {
    for (const message of messages) this.queue.push({ message, ackId: newId(), deliveryAttempt: attempt });
    this.#wake?.();
  }
  async receiveBatch(max: number, signal: AbortSignal): Promise<DriverDelivery[]> {
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
  async sendAcks(ids: readonly unknown[]): Promise<void> {
    this.acked.push(...ids);
  }
  async sendNacks(ids: readonly unknown[], delayMs: number): Promise<void> {
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
