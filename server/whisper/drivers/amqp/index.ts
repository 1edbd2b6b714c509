import type {
  Driver,
  DriverSubscription,
  DriverSubscriptionOptions,
  DriverTopic,
  DriverTopicOptions,
  SendOptions,
} from "../../driver.js";
import { PublishError } from "../../errors.js";
import type { Message } from "../../message.js";
import { throwIfUnsent } from "../batch.js";
import { SharedTopic, type SharedLease } from "../shared.js";
import { encodeMessage } from "./codec.js";
import { acquireAmqp, isRetryableAmqpError, wrapAmqpError, type AmqpConnection } from "./connection.js";
import { amqpCapabilities, parseAmqpUrl, type AmqpUrl } from "./options.js";
import { openAmqpSubscription } from "./subscription.js";
import { ensureExchange } from "./topology.js";

class AmqpTopic extends SharedTopic<AmqpConnection> implements DriverTopic {
  readonly capabilities = amqpCapabilities;

  constructor(
    lease: SharedLease<AmqpConnection>,
    readonly url: AmqpUrl,
  ) {
    super(lease, `AMQP exchange ${url.exchange}`, isRetryableAmqpError);
  }

  /**
   * Publishes the batch in order on the connection's confirm channel (persistent messages) and resolves once
   * the broker confirmed every one, whatever `options.confirm` says. Publishes without yielding while the
   * channel is open and has room (the wire work starts while the caller is still publishing); waits for the
   * channel to drain when its buffer is full. A PartialSendError names each message the broker nacked or that
   * the channel lost.
   */
  async sendBatch(messages: readonly Message[], _options: SendOptions): Promise<void> {
    if (messages.length === 0) return;
    const connection = this.connection();
    const server = connection.address.url;
    const what = `publish to AMQP exchange ${this.url.exchange}`;
    const wait = connection.whenConnected(this.url.bufferTimeoutMs);
    if (wait !== undefined) await wait;
    let channel = connection.publisher();
    if (channel instanceof Promise) {
      channel = await channel.catch((error: unknown) => {
        throw wrapAmqpError(error, server, what);
      });
    }
    const failures = new Map<number, unknown>();
    let unconfirmed = messages.length;
    let allConfirmed!: () => void;
    const confirmed = new Promise<void>((resolve) => (allConfirmed = resolve));
    const settle = (index: number, error: unknown) => {
      if (error) {
        failures.set(
          index,
          error instanceof Error ? wrapAmqpError(error, server, what) : new PublishError(`the broker at ${server} nacked a ${what}`, true),
        );
      }
      if (--unconfirmed === 0) allConfirmed();
    };
    for (let index = 0; index < messages.length; index++) {
      const wire = encodeMessage(messages[index]!);
      let room = true;
      try {
        room = channel.publish(
          this.url.exchange,
          this.url.routingKey,
          wire.body,
          { headers: wire.headers, contentType: wire.contentType, messageId: wire.messageId, persistent: true },
          (error: unknown) => settle(index, error),
        );
      } catch (error) {
        settle(index, error);
      }
      if (!room) await connection.drained(channel);
    }
    await confirmed;
    throwIfUnsent(failures, messages.length);
  }
}

/** The amqp:// driver (see options.ts for what it guarantees). */
export const amqpDriver: Driver = {
  async openTopic(url: URL, options: DriverTopicOptions): Promise<DriverTopic> {
    const parsed = parseAmqpUrl(url, options.driver);
    const lease = await acquireAmqp(parsed.address);
    try {
      await ensureExchange(lease.connection, parsed);
      return new AmqpTopic(lease, parsed);
    } catch (error) {
      await lease.release();
      throw error;
    }
  },

  async openSubscription(url: URL, options: DriverSubscriptionOptions): Promise<DriverSubscription> {
    return openAmqpSubscription(parseAmqpUrl(url, options.driver), options);
  },
};

export { amqpConnections } from "./connection.js";
export { amqpCapabilities } from "./options.js";
