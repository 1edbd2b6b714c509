import { jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import { nanos, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { defaults } from "../../defaults.js";
import type {
  Driver,
  DriverCapabilities,
  DriverDelivery,
  DriverSubscription,
  DriverSubscriptionOptions,
  DriverTopic,
  DriverTopicOptions,
  SendOptions,
} from "../../driver.js";
import {
  ConnectionError,
  InvalidOptionsError,
  InvalidUrlError,
  MessageTooLargeError,
  NotFoundError,
  PublishError,
  type WhisperError,
} from "../../errors.js";
import { newId, utf8, type Message } from "../../message.js";
import { decodeEncoded, type EncodedNatsMessage } from "../../encoded.js";
import { LeasedTopic, within, wrapSendError } from "../nats/index.js";
import { acquire, type NatsLease } from "../nats/pool.js";
import { throwIfUnsent } from "../batch.js";
import { checkSettings, intSetting, parseNatsUrl, stringSetting } from "../nats/url.js";
import { Wakeup } from "../wakeup.js";
import { apiError, wrapApiError } from "./api.js";
import { consumerConfig, ensureConsumer } from "./consumers.js";
import { ensureStream, NAME, STREAM_SETTINGS, streamSettings, type StreamContext } from "./streams.js";

/**
 * JetStream, `jetstream://host:port/<subject>?stream=<STREAM>`. At-least-once: a publish resolves once the
 * stream acknowledged it (pub-ack is always on), with the message id as `Nats-Msg-Id` so the stream's
 * duplicate window drops a resend; a subscription is a durable pull consumer (name = durable name) that
 * redelivers what is nacked or not acked within the ack deadline.
 */
export const jetstreamCapabilities: DriverCapabilities = Object.freeze({
  nack: true,
  redelivery: true,
  ordering: true,
  persistence: true,
  sharedSubscriptions: true,
});

/** JetStream publish error codes that this driver maps specially. */
const MESSAGE_TOO_LARGE = 10054;

/** The connection's JetStream clients, as the context stream management works in. */
async function managers(lease: NatsLease, url: URL): Promise<StreamContext> {
  const nc = lease.connection.nc;
  const server = lease.connection.address.url;
  try {
    const jsm = await jetstreamManager(nc, { timeout: defaults.jetstream.publishTimeoutMs });
    return { nc, jsm, js: jetstream(nc, { timeout: defaults.jetstream.publishTimeoutMs }), server, url: url.href };
  } catch (error) {
    throw wrapApiError(error, server, "JetStream");
  }
}

class JetStreamTopic extends LeasedTopic {
  readonly capabilities = jetstreamCapabilities;

  constructor(
    lease: NatsLease,
    readonly js: JetStreamClient,
    subject: string,
    bufferTimeoutMs: number,
  ) {
    super(lease, subject, bufferTimeoutMs);
  }

  /**
   * Publishes the whole batch at once (every publish in flight together, in order on one connection) and
   * resolves when the stream acknowledged all of them. Always confirmed, whatever `options.confirm` says.
   * If any publish fails the batch rejects after all have settled, naming each failed message (a
   * PartialSendError for a batch of several); resending one is safe because it carries its id as Nats-Msg-Id.
   */
  async sendBatch(messages: readonly Message[], _options: SendOptions): Promise<void> {
    const { connection, encoded } = await this.prepare(messages, { msgId: true });
    const server = connection.address.url;
    const failures = new Map<number, unknown>();
    const failed = (index: number, size: number) => (error: unknown) =>
      void failures.set(index, this.#wrap(error, size, connection.maxPayload, server));
    await Promise.all(
      encoded.map((e, index) =>
        this.js.publish(this.subject, e.body, { headers: e.headers }).then(undefined, failed(index, e.size)),
      ),
    );
    throwIfUnsent(failures, messages.length);
  }

  #wrap(error: unknown, size: number, limit: number, server: string): WhisperError {
    if ((error as Error)?.name === "JetStreamNotEnabled") {
      return new PublishError(
        `no JetStream stream on ${server} stores subject ${this.subject} (no responders)`,
        true,
        { cause: error },
      );
    }
    const api = apiError(error);
    if (api !== undefined) {
      if (api.code === MESSAGE_TOO_LARGE) return new MessageTooLargeError(size, limit, { cause: error });
      return new PublishError(`JetStream rejected a publish to ${this.subject}: ${api.message}`, api.status >= 500, {
        cause: error,
      });
    }
    return wrapSendError(error, server);
  }
}

/**
 * A pull consumer read through the client's consume() iterator. Pulling pauses while `bufferedMessages`
 * deliveries wait unread, so a slow handler never makes the client pull without bound (which would let
 * ack deadlines lapse). Deliveries still buffered at close are nacked so they are redelivered at once.
 */
class JetStreamSubscription implements DriverSubscription {
  readonly capabilities = jetstreamCapabilities;
  readonly #lease: NatsLease;
  readonly #messages: ConsumerMessages;
  readonly #origin: { server: string; stream: string };
  readonly #onClose: () => Promise<void>;
  readonly #highWater: number;
  #buffer: JsMsg[] = [];
  #head = 0;
  readonly #wakeup = new Wakeup();
  #room: (() => void) | undefined;
  #failure: WhisperError | undefined;
  #closed = false;
  readonly #pumping: Promise<void>;

  constructor(
    lease: NatsLease,
    messages: ConsumerMessages,
    stream: string,
    consumer: string,
    highWater: number,
    onClose: () => Promise<void>,
  ) {
    this.#lease = lease;
    this.#messages = messages;
    this.#origin = { server: lease.connection.address.url, stream };
    this.#highWater = highWater;
    this.#onClose = onClose;
    this.#pumping = this.#pump(consumer);
    void this.#watch(consumer);
  }

  /**
   * A deleted consumer (or its stream) ends the subscription with NotFoundError. A consumer or stream that is
   * only missing for a while (a broker restarting) is waited for: the client keeps retrying.
   */
  async #watch(consumer: string): Promise<void> {
    for await (const status of this.#messages.status()) {
      if (status.type === "consumer_deleted" && !this.#closed) {
        this.#failure = new NotFoundError(
          `JetStream consumer ${consumer} on stream ${this.#origin.stream} (deleted: ${status.description})`,
        );
        this.#messages.stop();
        this.#wakeup.wake();
      }
    }
  }

  async #pump(consumer: string): Promise<void> {
    try {
      for await (const m of this.#messages) {
        if (this.#closed) {
          m.nak();
          continue;
        }
        this.#buffer.push(m);
        this.#wakeup.wake();
        if (this.#buffer.length - this.#head >= this.#highWater) {
          await new Promise<void>((resolve) => (this.#room = resolve));
        }
      }
      if (!this.#closed && this.#failure === undefined) {
        this.#failure = new ConnectionError(`JetStream consumer ${consumer} on stream ${this.#origin.stream} stopped`);
      }
    } catch (error) {
      if (!this.#closed && this.#failure === undefined) {
        this.#failure = new ConnectionError(
          `JetStream consumer ${consumer} on stream ${this.#origin.stream} stopped: ${(error as Error)?.message ?? error}`,
          { cause: error },
        );
      }
    }
    this.#wakeup.wake();
  }

  async receiveBatch(maxMessages: number, signal: AbortSignal): Promise<DriverDelivery[]> {
    for (;;) {
      if (this.#closed || signal.aborted) return [];
      const available = this.#buffer.length - this.#head;
      if (available > 0) {
        const n = Math.min(available, maxMessages);
        const out: DriverDelivery[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = new JetStreamDelivery(this.#buffer[this.#head + i]!, this.#origin);
        this.#head += n;
        if (this.#head === this.#buffer.length) {
          this.#buffer = [];
          this.#head = 0;
        }
        const room = this.#room;
        if (room && this.#buffer.length - this.#head < this.#highWater) {
          this.#room = undefined;
          room();
        }
        return out;
      }
      if (this.#failure) throw this.#failure;
      await this.#wakeup.wait(signal);
    }
  }

  /**
   * Never: a failure ends this subscription for good (the consumer or stream is gone, or its pull stopped);
   * the client library itself already rides out connection loss. Reopen the subscription instead.
   */
  isRetryable(): boolean {
    return false;
  }

  async sendAcks(ackIds: readonly unknown[]): Promise<void> {
    const nc = this.#lease.connection.nc;
    for (const id of ackIds) if (id instanceof JetStreamAck) id.settle(nc, ACK);
  }

  async sendNacks(ackIds: readonly unknown[], delayMs: number): Promise<void> {
    const nc = this.#lease.connection.nc;
    const payload = delayMs > 0 ? utf8.encode(`-NAK ${JSON.stringify({ delay: nanos(delayMs) })}`) : NAK;
    for (const id of ackIds) if (id instanceof JetStreamAck) id.settle(nc, payload, delayMs > 0 ? delayMs : undefined);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (let i = this.#head; i < this.#buffer.length; i++) this.#buffer[i]!.nak();
    this.#buffer = [];
    this.#head = 0;
    this.#wakeup.wake();
    this.#room?.();
    await this.#messages.close().catch(() => {});
    await this.#pumping;
    await this.#onClose().catch(() => {});
    await this.#lease.release();
  }
}

/**
 * A delivery that decodes its message on first read (encoded.ts): the header block and the body stay the bytes
 * the client received until someone asks for the Message, which a recorder handing deliveries to a worker
 * thread never does on the connection's thread.
 */
class JetStreamDelivery implements DriverDelivery {
  readonly encoded: EncodedNatsMessage;
  readonly ackId: JetStreamAck;
  readonly deliveryAttempt: number;
  readonly sequence: number;
  #message: Message | undefined;

  constructor(m: JsMsg, origin: { server: string; stream: string }) {
    const info = m.info;
    this.deliveryAttempt = info.deliveryCount;
    this.sequence = info.streamSequence;
    // Only the reply subject: holding the client's message until the ack would keep its decoded headers alive.
    this.ackId = JetStreamAck.of(m);
    this.encoded = {
      format: "nats",
      subject: m.subject,
      headers: headerBlock(m),
      data: m.data,
      server: origin.server,
      stream: origin.stream,
      sequence: info.streamSequence,
    };
  }

  get message(): Message {
    return (this.#message ??= decodeEncoded(this.encoded));
  }
}

/**
 * The raw header block of a client message. The client keeps it (its MsgImpl's frame and header length) but
 * only hands out a decoded copy (`headers`), which costs a Map and strings per delivery; the raw bytes are read
 * where the client (3.x) has them, else the decoded headers are encoded again.
 */
function headerBlock(m: JsMsg): Uint8Array | null {
  const inner = (m as unknown as { msg?: { _rdata?: unknown; _msg?: { hdr?: unknown } } }).msg;
  const frame = inner?._rdata;
  const length = inner?._msg?.hdr;
  if (frame instanceof Uint8Array && typeof length === "number") return length > 0 ? frame.subarray(0, length) : null;
  const headers = m.headers as (MsgHdrs & { encode?(): Uint8Array }) | undefined;
  return headers?.encode?.() ?? null;
}

const ACK = Uint8Array.of(0x2b, 0x41, 0x43, 0x4b); // "+ACK"
const NAK = Uint8Array.of(0x2d, 0x4e, 0x41, 0x4b); // "-NAK"

/**
 * The ack id this driver hands out: the delivery's reply subject (the client's JsMsg has it, though its type
 * does not say so), settled by publishing the JetStream ack protocol to it, which is what JsMsg.ack()/nak()
 * send; the JsMsg itself only if it has no readable reply subject. Only the first settlement is sent.
 */
class JetStreamAck {
  #target: string | JsMsg | undefined;

  private constructor(target: string | JsMsg) {
    this.#target = target;
  }

  static of(m: JsMsg): JetStreamAck {
    const reply = (m as JsMsg & { reply?: unknown }).reply;
    return new JetStreamAck(typeof reply === "string" && reply.startsWith("$JS.ACK.") ? reply : m);
  }

  settle(nc: NatsConnection, payload: Uint8Array, delayMs?: number): void {
    const target = this.#target;
    this.#target = undefined;
    if (typeof target === "string") nc.publish(target, payload);
    else if (payload === ACK) target?.ack();
    else target?.nak(delayMs);
  }
}

export const jetstreamDriver: Driver = {
  async openTopic(url: URL, options: DriverTopicOptions): Promise<DriverTopic> {
    const { server, subject } = parseNatsUrl(url, { wildcards: false });
    checkSettings(url, options.driver, [...STREAM_SETTINGS, "bufferTimeoutMs"]);
    const settings = streamSettings(url, options.driver);
    const bufferTimeoutMs = intSetting(url, "bufferTimeoutMs", options.driver, defaults.nats.disconnectBufferTimeoutMs);
    const lease = await acquire(server);
    try {
      const context = await managers(lease, url);
      if (settings.stream !== undefined) await ensureStream(context, settings, subject);
      return new JetStreamTopic(lease, context.js, subject, bufferTimeoutMs);
    } catch (error) {
      await lease.release();
      throw error;
    }
  },

  async openSubscription(url: URL, options: DriverSubscriptionOptions): Promise<DriverSubscription> {
    const { server, subject } = parseNatsUrl(url, { wildcards: true });
    checkSettings(url, options.driver, [...STREAM_SETTINGS, "deliver"]);
    const settings = streamSettings(url, options.driver);
    const deliver = stringSetting(url, "deliver", options.driver);
    if (deliver !== undefined && deliver !== "all" && deliver !== "new") {
      throw new InvalidUrlError(url.href, `deliver must be "all" or "new"`);
    }
    if (options.name !== undefined && !NAME.test(options.name)) {
      throw new InvalidOptionsError(
        `subscription name "${options.name}" is a JetStream durable name: no spaces, ".", "*", ">" or slashes`,
      );
    }
    const isPrivate = options.name === undefined;
    const name = options.name ?? `whisper_${newId()}`;
    const lease = await acquire(server);
    try {
      const context = await managers(lease, url);
      const { js, jsm } = context;
      let stream = settings.stream;
      if (stream !== undefined) {
        await ensureStream(context, settings, subject);
      } else {
        stream = await within(jsm.streams.find(subject), defaults.jetstream.publishTimeoutMs, "stream lookup").catch(
          (error: unknown) => {
            throw new NotFoundError(`a JetStream stream for subject ${subject} on ${server.url}`, { cause: error });
          },
        );
      }
      const deliverAll = deliver === undefined ? !isPrivate : deliver === "all";
      const config = consumerConfig(name, subject, options, deliverAll, isPrivate);
      await ensureConsumer(jsm, stream, config, options.startAt !== undefined, server.url);
      const consumer = await js.consumers.get(stream, name).catch((error: unknown) => {
        throw wrapApiError(error, server.url, `JetStream consumer ${name} on ${stream}`);
      });
      const messages = await consumer.consume({ max_messages: defaults.jetstream.pullMaxMessages });
      const target = stream;
      return new JetStreamSubscription(
        lease,
        messages,
        stream,
        name,
        defaults.jetstream.bufferedMessages,
        isPrivate ? async () => void (await jsm.consumers.delete(target, name)) : async () => {},
      );
    } catch (error) {
      await lease.release();
      throw error;
    }
  },
};
