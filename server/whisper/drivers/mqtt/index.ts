import type { MqttClient } from "mqtt";
import { defaults } from "../../defaults.js";
import type {
  Driver,
  DriverSubscription,
  DriverSubscriptionOptions,
  DriverTopic,
  DriverTopicOptions,
  SendOptions,
} from "../../driver.js";
import { TimeoutError } from "../../errors.js";
import type { Message } from "../../message.js";
import { throwIfUnsent } from "../batch.js";
import { SharedTopic, type SharedLease } from "../shared.js";
import { encodeMessage } from "./codec.js";
import { acquireMqtt, isRetryableMqttError, whenConnected, wrapMqttError, type MqttAddress } from "./connection.js";
import { mqttCapabilities, parseMqttUrl, type MqttUrl } from "./options.js";
import { openMqttSubscription } from "./subscription.js";

class MqttTopic extends SharedTopic<{ client: MqttClient; address: MqttAddress }> implements DriverTopic {
  readonly capabilities = mqttCapabilities;

  constructor(
    lease: SharedLease<{ client: MqttClient; address: MqttAddress }>,
    readonly url: MqttUrl,
  ) {
    super(lease, `MQTT topic ${url.topic}`, isRetryableMqttError);
  }

  /**
   * Publishes the batch in order at QoS 1 on the shared client and resolves once the broker acknowledged every
   * message (PUBACK), whatever `options.confirm` says. A publish not acknowledged within publishTimeoutMs (one
   * timer per batch: its messages go out together) fails with a retryable TimeoutError; a PartialSendError names
   * each failed message.
   */
  async sendBatch(messages: readonly Message[], _options: SendOptions): Promise<void> {
    if (messages.length === 0) return;
    const { client, address } = this.connection();
    const wait = whenConnected(client, address, this.url.bufferTimeoutMs);
    if (wait !== undefined) await wait;
    const failures = new Map<number, unknown>();
    const what = `publish to ${this.url.topic}`;
    const settled = new Uint8Array(messages.length);
    let unsettled = messages.length;
    let allSettled!: () => void;
    const done = new Promise<void>((resolve) => (allSettled = resolve));
    const settle = (index: number, error: unknown) => {
      if (settled[index] === 1) return;
      settled[index] = 1;
      if (error !== undefined) failures.set(index, error);
      if (--unsettled === 0) allSettled();
    };
    const timer = setTimeout(() => {
      for (let index = 0; index < messages.length; index++) {
        settle(index, new TimeoutError(`MQTT ${what} on ${address.url}`, defaults.mqtt.publishTimeoutMs));
      }
    }, defaults.mqtt.publishTimeoutMs);
    for (let index = 0; index < messages.length; index++) {
      const wire = encodeMessage(messages[index]!);
      client.publish(
        this.url.topic,
        wire.payload,
        { qos: 1, properties: { userProperties: wire.userProperties, contentType: wire.contentType } },
        (error) => settle(index, error ? wrapMqttError(error, address.url, what) : undefined),
      );
    }
    await done;
    clearTimeout(timer);
    throwIfUnsent(failures, messages.length);
  }
}

/** The mqtt:// driver (see options.ts for what it guarantees and what MQTT cannot give). */
export const mqttDriver: Driver = {
  async openTopic(url: URL, options: DriverTopicOptions): Promise<DriverTopic> {
    const parsed = parseMqttUrl(url, options.driver, { filter: false });
    return new MqttTopic(await acquireMqtt(parsed.address), parsed);
  },

  async openSubscription(url: URL, options: DriverSubscriptionOptions): Promise<DriverSubscription> {
    return openMqttSubscription(parseMqttUrl(url, options.driver, { filter: true }), options);
  },
};

export { mqttConnections } from "./connection.js";
export { mqttCapabilities, mqttCapabilityReasons } from "./options.js";
