import type { IPublishPacket, MqttClient } from "mqtt";
import { defaults } from "../../defaults.js";
import type { DriverDelivery, DriverSubscription, DriverSubscriptionOptions } from "../../driver.js";
import { PublishError } from "../../errors.js";
import { DeliveryBuffer } from "../shared.js";
import { decodeMessage } from "./codec.js";
import { connectMqtt, isRetryableMqttError, wrapMqttError } from "./connection.js";
import { mqttCapabilities, subscriptionFilter, type MqttUrl } from "./options.js";

/**
 * One subscription on an MQTT client of its own (its session, in-flight window and PUBACK order are per client,
 * so one slow subscription holds back no other). QoS 1 messages are acknowledged when the driver takes them; once
 * `maxBuffered` wait untaken, acknowledging pauses, which stops the client reading, so the broker holds the rest
 * (TCP backpressure, then the session's queue). The session survives a reconnect (the broker keeps its QoS 1
 * messages meanwhile) and is discarded on close. Messages taken but not yet handed out at close are lost.
 */
class MqttSubscription implements DriverSubscription {
  readonly capabilities = mqttCapabilities;
  readonly #client: MqttClient;
  readonly #filter: string;
  readonly #maxBuffered: number;
  readonly #source: string;
  readonly #deliveries = new DeliveryBuffer();
  #held: Array<() => void> = [];
  #closing: Promise<void> | undefined;

  constructor(client: MqttClient, filter: string, url: MqttUrl) {
    this.#client = client;
    this.#filter = filter;
    this.#maxBuffered = url.maxBuffered;
    this.#source = url.address.url;
  }

  /** Takes one received PUBLISH; `ack` sends its PUBACK (now, or once there is room). */
  take(topic: string, payload: Buffer, packet: IPublishPacket, ack: () => void): void {
    if (this.#deliveries.closed) return ack();
    const properties = packet.properties ?? {};
    this.#deliveries.push({
      message: decodeMessage(
        { payload, userProperties: properties.userProperties ?? {}, contentType: properties.contentType },
        { source: this.#source, topic },
      ),
      ackId: undefined,
      deliveryAttempt: 1,
    });
    if (this.#deliveries.size < this.#maxBuffered) ack();
    else this.#held.push(ack);
  }

  async subscribe(): Promise<void> {
    const granted = await this.#client.subscribeAsync(this.#filter, { qos: 1 });
    const refused = granted.find((g) => g.qos >= 0x80);
    if (refused !== undefined) {
      throw new PublishError(`MQTT broker at ${this.#source} refused the subscription ${this.#filter} (reason ${refused.qos})`, false);
    }
  }

  /** Takes from the buffer, then acknowledges as many held messages as there is room for again. */
  async receiveBatch(maxMessages: number, signal: AbortSignal): Promise<DriverDelivery[]> {
    const out = await this.#deliveries.take(maxMessages, signal);
    const room = Math.max(0, this.#maxBuffered - this.#deliveries.size);
    for (const ack of this.#held.splice(0, room)) ack();
    return out;
  }

  /** receiveBatch never throws: the client rides out connection loss and resumes its session. */
  isRetryable(error: unknown): boolean {
    return isRetryableMqttError(error);
  }

  /** Nothing to send: the PUBACK went out when the message was taken. */
  async sendAcks(): Promise<void> {}

  /** MQTT cannot hand a message back (capabilities.nack is false): a nack drops it, like an ack. */
  async sendNacks(): Promise<void> {}

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#deliveries.close();
      for (const ack of this.#held.splice(0)) ack();
      if (this.#client.connected) await this.#client.unsubscribeAsync(this.#filter).catch(() => {});
      // Session expiry 0 on the way out: the broker forgets the session instead of queueing for it.
      await this.#client.endAsync(false, { properties: { sessionExpiryInterval: 0 } }).catch(() => {});
    })();
    return this.#closing;
  }
}

/** Opens a subscription on a new client with a session of its own (ConnectionError naming the broker if unreachable). */
export async function openMqttSubscription(url: MqttUrl, options: DriverSubscriptionOptions): Promise<DriverSubscription> {
  const filter = subscriptionFilter(url.topic, options.name);
  const target: { subscription?: MqttSubscription } = {};
  const client = await connectMqtt(url.address, {
    clean: false,
    properties: { sessionExpiryInterval: defaults.mqtt.sessionExpirySeconds },
    customHandleAcks: (topic, payload, packet, done) => {
      const ack = () => done(0);
      if (target.subscription === undefined) return ack();
      target.subscription.take(topic, payload, packet, ack);
    },
  });
  // QoS 0 messages (from publishers that sent them so) arrive without an acknowledgement to hold.
  client.on("message", (topic, payload, packet) => {
    if (packet.qos === 0) target.subscription?.take(topic, payload, packet, () => {});
  });
  const subscription = new MqttSubscription(client, filter, url);
  target.subscription = subscription;
  try {
    await subscription.subscribe();
    return subscription;
  } catch (error) {
    await subscription.close();
    throw wrapMqttError(error, url.address.url, `subscribing to ${filter}`);
  }
}
