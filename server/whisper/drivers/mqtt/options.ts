import { defaults } from "../../defaults.js";
import type { DriverCapabilities } from "../../driver.js";
import { InvalidOptionsError, InvalidUrlError } from "../../errors.js";
import { checkSettings, intSetting } from "../nats/url.js";
import { mqttAddress, type MqttAddress } from "./connection.js";

/**
 * MQTT 5, `mqtt://[user:pass@]host[:port]/<topic>`. Publishing is QoS 1: a publish resolves on the broker's
 * PUBACK. Receiving: a named subscription is the shared subscription `$share/<name>/<topic>`, a private one the
 * topic filter itself, each on a client of its own whose session outlives a reconnect (the broker keeps its
 * QoS 1 messages meanwhile). MQTT has no negative acknowledgement and no redelivery on demand: the client
 * acknowledges (PUBACK) a message when the driver takes it, so nack() drops it; see `mqttCapabilityReasons`.
 */
export const mqttCapabilities: DriverCapabilities = Object.freeze({
  nack: false,
  redelivery: false,
  ordering: true,
  persistence: false,
  sharedSubscriptions: true,
});

/** Why MQTT lacks what it lacks (for docs and the conformance harness). */
export const mqttCapabilityReasons = Object.freeze({
  nack: "MQTT has no negative acknowledgement: a subscriber can only PUBACK, so nack() drops the message",
  redelivery:
    "MQTT redelivers only unacknowledged QoS 1 messages on a session's reconnect, never after an ack deadline or on request",
  persistence:
    "an MQTT broker keeps messages only for sessions that are subscribed: a shared subscription nobody holds loses what is published",
});

export const MQTT_SETTINGS = ["bufferTimeoutMs", "maxBuffered"] as const;

export interface MqttUrl {
  readonly address: MqttAddress;
  /** The topic (publishing) or topic filter (subscriptions). */
  readonly topic: string;
  readonly bufferTimeoutMs: number;
  /** Messages a subscription holds untaken before it stops reading from the broker (backpressure). */
  readonly maxBuffered: number;
}

/** Parses an mqtt:// URL; topics must be literal, subscriptions (`filter`) may use `+` levels and a final `#`. */
export function parseMqttUrl(url: URL, driverOptions: Readonly<Record<string, unknown>> | undefined, { filter }: { filter: boolean }): MqttUrl {
  checkSettings(url, driverOptions, MQTT_SETTINGS);
  if (url.hash !== "" || url.href.endsWith("#")) {
    throw new InvalidUrlError(url.href, 'a "#" in a URL starts its fragment: write the multi-level wildcard as %23');
  }
  let topic: string;
  try {
    topic = decodeURIComponent(url.pathname.slice(1));
  } catch (cause) {
    throw new InvalidUrlError(url.href, "the topic is not valid percent-encoding", { cause });
  }
  if (topic.length === 0) throw new InvalidUrlError(url.href, "missing topic (expected mqtt://host:port/<topic>)");
  if (topic.startsWith("$")) throw new InvalidUrlError(url.href, "topics starting with $ are the broker's own");
  const levels = topic.split("/");
  levels.forEach((level, index) => {
    if (!/[+#]/.test(level)) return;
    if (filter && (level === "+" || (level === "#" && index === levels.length - 1))) return;
    throw new InvalidUrlError(
      url.href,
      filter
        ? `topic filter "${topic}" is not valid: "+" and "#" stand for whole levels, "#" only last`
        : `topic "${topic}" is not valid for publishing: no "+" or "#"`,
    );
  });
  return {
    address: mqttAddress(url),
    topic,
    bufferTimeoutMs: intSetting(url, "bufferTimeoutMs", driverOptions, defaults.mqtt.bufferTimeoutMs),
    maxBuffered: intSetting(url, "maxBuffered", driverOptions, defaults.mqtt.maxBuffered),
  };
}

/** The MQTT topic filter of a subscription: `$share/<name>/<topic>` for a named one. */
export function subscriptionFilter(topic: string, name: string | undefined): string {
  if (name === undefined) return topic;
  if (/[/+#]/.test(name)) throw new InvalidOptionsError(`subscription name "${name}" is an MQTT share name: no "/", "+" or "#"`);
  return `$share/${name}/${topic}`;
}
