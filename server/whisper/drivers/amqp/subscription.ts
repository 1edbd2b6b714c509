import type { Channel, ConsumeMessage } from "amqplib";
import type { DriverDelivery, DriverSubscription, DriverSubscriptionOptions } from "../../driver.js";
import { newId } from "../../message.js";
import { DeliveryBuffer, type SharedLease } from "../shared.js";
import { decodeMessage } from "./codec.js";
import { acquireAmqp, isRetryableAmqpError, wrapAmqpError, type AmqpConnection } from "./connection.js";
import { amqpCapabilities, type AmqpUrl } from "./options.js";
import { declareQueue, ensureExchange } from "./topology.js";

/** The ack id of one delivery: the message on the channel that delivered it (delivery tags are per channel). */
class AmqpAckId {
  constructor(
    readonly owner: AmqpSubscription,
    readonly channel: Channel,
    readonly delivery: ConsumeMessage,
    readonly deadline: number,
  ) {}
}

/**
 * A consumer on the subscription's queue, on a channel of its own with `prefetch` as the window of unsettled
 * deliveries. Contract beyond driver.ts:
 * - every delivery is settled on the broker exactly once (a second ack/nack of a tag would close the channel):
 *   by sendAcks (possibly within a `multiple` ack), sendNacks (requeue, after the delay), the ack deadline
 *   (requeue), or close (requeue);
 * - a lost channel (connection drop, channel error, consumer cancelled by the broker) is opened again, with its
 *   consumer, by the next receiveBatch; a failed reopening is thrown from receiveBatch, so the portable
 *   subscription retries it with its backoff (a ConnectionError: retryable) or surfaces it (a NotFoundError: the
 *   queue was deleted). What the old channel delivered was requeued by the broker, so settling it later does
 *   nothing: an ack lost with the channel means a redelivery, never a lost message;
 * - the broker numbers redeliveries (quorum queues' `x-delivery-count`): deliveryAttempt = that + 1.
 */
class AmqpSubscription implements DriverSubscription {
  readonly capabilities = amqpCapabilities;
  readonly #lease: SharedLease<AmqpConnection>;
  readonly #url: AmqpUrl;
  readonly #queue: string;
  readonly #private: boolean;
  readonly #ackDeadlineMs: number;
  readonly #source: string;
  #channel: Channel | undefined;
  readonly #deliveries = new DeliveryBuffer();
  readonly #unsettled = new Set<AmqpAckId>();
  readonly #delayed = new Map<AmqpAckId, NodeJS.Timeout>();
  readonly #sweeper: NodeJS.Timeout;
  /** A reopening of the lost channel in flight (started by receiveBatch). */
  #opening: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(lease: SharedLease<AmqpConnection>, url: AmqpUrl, queue: string, isPrivate: boolean, ackDeadlineMs: number) {
    this.#lease = lease;
    this.#url = url;
    this.#queue = queue;
    this.#private = isPrivate;
    this.#ackDeadlineMs = ackDeadlineMs;
    this.#source = `amqp://${lease.connection.address.hostport}/${encodeURIComponent(url.exchange)}`;
    this.#sweeper = setInterval(() => this.#expire(), Math.max(10, Math.min(1_000, Math.floor(ackDeadlineMs / 2))));
    this.#sweeper.unref();
  }

  get #server(): string {
    return this.#lease.connection.address.url;
  }

  /**
   * Opens the channel and starts the consumer. A channel that closes later is dropped (and reopened by
   * receiveBatch); one that close() catches opening is closed by it.
   */
  async consume(): Promise<void> {
    if (this.#deliveries.closed) return;
    const channel = await this.#lease.connection.model.createChannel();
    channel.on("error", () => {});
    if (this.#deliveries.closed) return void (await channel.close().catch(() => {}));
    channel.on("close", () => {
      if (this.#channel === channel) this.#dropChannel();
    });
    this.#channel = channel;
    try {
      await channel.prefetch(this.#url.prefetch);
      await channel.consume(this.#queue, (delivery) => {
        if (delivery !== null) return this.#deliver(channel, delivery);
        // The broker cancelled the consumer (its queue was deleted, or it moved): reopening tells which.
        this.#abandon(channel);
      });
    } catch (error) {
      this.#abandon(channel);
      throw error;
    }
  }

  /** Drops `channel` if it is the current one and closes it (what it held goes back to the queue). */
  #abandon(channel: Channel): void {
    if (this.#channel === channel) this.#dropChannel();
    channel.close().catch(() => {});
  }

  /**
   * Reopens the lost channel once the connection is up (waiting at most bufferTimeoutMs for it). Never rejects:
   * a failure becomes the error the next receiveBatch throws.
   */
  async #reopen(): Promise<void> {
    try {
      const connected = this.#lease.connection.whenConnected(this.#url.bufferTimeoutMs);
      if (connected !== undefined) await connected;
      await this.consume();
    } catch (error) {
      this.#deliveries.fail(wrapAmqpError(error, this.#server, `reopening the consumer of AMQP queue ${this.#queue}`));
    } finally {
      this.#opening = undefined;
      this.#deliveries.wake();
    }
  }

  #deliver(channel: Channel, delivery: ConsumeMessage): void {
    if (this.#deliveries.closed || this.#channel !== channel) {
      // A late delivery of a channel being closed: closing requeues it anyway, and a closing channel refuses a nack.
      try {
        channel.nack(delivery, false, true);
      } catch {
        // See above.
      }
      return;
    }
    const ackId = new AmqpAckId(this, channel, delivery, Date.now() + this.#ackDeadlineMs);
    this.#unsettled.add(ackId);
    const count = Number(delivery.properties.headers?.["x-delivery-count"] ?? 0);
    this.#deliveries.push({
      message: decodeMessage(
        {
          body: delivery.content,
          headers: delivery.properties.headers ?? {},
          contentType: delivery.properties.contentType,
          messageId: delivery.properties.messageId,
        },
        { source: this.#source },
      ),
      ackId,
      deliveryAttempt: Number.isFinite(count) ? count + 1 : 1,
    });
  }

  /**
   * Forgets the channel: its deliveries are back on the queue (the broker requeues what a closed channel held).
   * Wakes a waiting receiveBatch, which reopens it.
   */
  #dropChannel(): void {
    const old = this.#channel;
    this.#channel = undefined;
    for (const ackId of this.#unsettled) if (ackId.channel === old) this.#unsettled.delete(ackId);
    for (const [ackId, timer] of this.#delayed) {
      if (ackId.channel !== old) continue;
      clearTimeout(timer);
      this.#delayed.delete(ackId);
    }
    this.#deliveries.remove((d) => (d.ackId as AmqpAckId).channel === old);
    this.#deliveries.wake();
  }

  /** Waits on the buffer, reopening the channel first when it was lost. */
  receiveBatch(maxMessages: number, signal: AbortSignal): Promise<DriverDelivery[]> {
    return this.#deliveries.take(maxMessages, signal, () => {
      if (this.#channel === undefined) this.#opening ??= this.#reopen();
    });
  }

  /** Connection trouble is worth another receive (which reopens the consumer); a deleted queue is not. */
  isRetryable(error: unknown): boolean {
    return isRetryableAmqpError(error);
  }

  /** Takes `ackId` out of the unsettled set; false if it is not this subscription's, or settled, or from an old channel. */
  #settle(ackId: unknown): ackId is AmqpAckId {
    if (!(ackId instanceof AmqpAckId) || ackId.owner !== this || !this.#unsettled.has(ackId)) return false;
    this.#unsettled.delete(ackId);
    return ackId.channel === this.#channel;
  }

  /**
   * Acks with as few frames as it can: every acked delivery tagged below the lowest tag still owed a settlement on
   * the channel (unsettled, or waiting for its delayed nack) is covered by one `multiple` ack of the highest of
   * them; the rest are acked one by one. (A multiple ack also covers tags settled before, which the broker no
   * longer holds: harmless.)
   */
  async sendAcks(ackIds: readonly unknown[]): Promise<void> {
    const acked: AmqpAckId[] = [];
    for (const ackId of ackIds) if (this.#settle(ackId)) acked.push(ackId);
    const channel = this.#channel;
    if (acked.length === 0 || channel === undefined) return;
    let floor = Infinity;
    for (const owed of [this.#unsettled.keys(), this.#delayed.keys()]) {
      for (const ackId of owed) if (ackId.channel === channel) floor = Math.min(floor, ackId.delivery.fields.deliveryTag);
    }
    let highest: AmqpAckId | undefined;
    for (const ackId of acked) {
      const tag = ackId.delivery.fields.deliveryTag;
      if (tag >= floor) channel.ack(ackId.delivery);
      else if (highest === undefined || tag > highest.delivery.fields.deliveryTag) highest = ackId;
    }
    if (highest !== undefined) channel.ack(highest.delivery, true);
  }

  async sendNacks(ackIds: readonly unknown[], delayMs: number): Promise<void> {
    for (const ackId of ackIds) {
      if (!this.#settle(ackId)) continue;
      if (delayMs <= 0) ackId.channel.nack(ackId.delivery, false, true);
      else this.#delayed.set(ackId, setTimeout(() => this.#requeueDelayed(ackId), delayMs));
    }
  }

  #requeueDelayed(ackId: AmqpAckId): void {
    if (!this.#delayed.delete(ackId)) return;
    if (ackId.channel === this.#channel) ackId.channel.nack(ackId.delivery, false, true);
  }

  /** Requeues deliveries whose ack deadline passed. */
  #expire(): void {
    const now = Date.now();
    for (const ackId of this.#unsettled) {
      if (ackId.deadline <= now && this.#settle(ackId)) ackId.channel.nack(ackId.delivery, false, true);
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#deliveries.close();
    const channel = this.#channel;
    // Closing the channel requeues everything it holds: buffered deliveries and delayed nacks included.
    for (const timer of this.#delayed.values()) clearTimeout(timer);
    this.#delayed.clear();
    this.#unsettled.clear();
    this.#channel = undefined;
    if (channel !== undefined) await channel.close().catch(() => {});
    if (this.#private) {
      await this.#lease.connection.withChannel((c) => c.deleteQueue(this.#queue)).catch(() => {});
    }
    await this.#lease.release();
  }
}

/**
 * Opens a subscription: declares the exchange (or checks it, `create=false`) and the subscription's queue,
 * then starts consuming. Queue names: `<exchange>.<name>`, or `<exchange>.private.<id>` for a private one.
 */
export async function openAmqpSubscription(url: AmqpUrl, options: DriverSubscriptionOptions): Promise<DriverSubscription> {
  const isPrivate = options.name === undefined;
  const queue = `${url.exchange}.${options.name ?? `private.${newId()}`}`;
  const lease = await acquireAmqp(url.address);
  let subscription: AmqpSubscription | undefined;
  try {
    await ensureExchange(lease.connection, url);
    await declareQueue(lease.connection, url, queue, isPrivate);
    subscription = new AmqpSubscription(lease, url, queue, isPrivate, options.ackDeadlineMs);
    await subscription.consume();
    return subscription;
  } catch (error) {
    if (subscription !== undefined) await subscription.close();
    else await lease.release();
    throw wrapAmqpError(error, lease.connection.address.url, `consuming from AMQP queue ${queue}`);
  }
}
