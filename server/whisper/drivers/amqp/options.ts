import { defaults } from "../../defaults.js";
import type { DriverCapabilities } from "../../driver.js";
import { InvalidUrlError } from "../../errors.js";
import { boolSetting, checkSettings, intSetting, stringSetting } from "../nats/url.js";
import { amqpAddress, type AmqpAddress } from "./connection.js";

/**
 * RabbitMQ over AMQP 0-9-1, `amqp://[user:pass@]host[:port]/<exchange>`. At-least-once: a publish resolves
 * once the broker confirmed it (publisher confirms, always on) as a persistent message; a named subscription
 * is a durable quorum queue `<exchange>.<name>` bound to the exchange, consumed with a prefetch window; a nack
 * requeues (after its delay, held by the driver), and a delivery not settled within the ack deadline is
 * requeued by the driver; the quorum queue's `x-delivery-count` numbers the attempts.
 */
export const amqpCapabilities: DriverCapabilities = Object.freeze({
  nack: true,
  redelivery: true,
  ordering: true,
  persistence: true,
  sharedSubscriptions: true,
});

/** Settings of amqp:// URLs (query) and of `driver: {…}` options; one list for topics and subscriptions. */
export const AMQP_SETTINGS = ["vhost", "exchangeType", "routingKey", "bindingKey", "create", "prefetch", "bufferTimeoutMs"] as const;

const EXCHANGE_TYPES = ["fanout", "topic", "direct", "headers"];

export interface AmqpUrl {
  readonly address: AmqpAddress;
  readonly exchange: string;
  readonly exchangeType: string;
  /** Routing key of publishes (fanout exchanges ignore it). */
  readonly routingKey: string;
  /** Binding key of a subscription's queue (`#` on a topic exchange by default: everything). */
  readonly bindingKey: string;
  /** Declare the exchange (durable) when missing; false: a missing exchange is a NotFoundError. */
  readonly create: boolean;
  readonly prefetch: number;
  readonly bufferTimeoutMs: number;
}

export function parseAmqpUrl(url: URL, driverOptions: Readonly<Record<string, unknown>> | undefined): AmqpUrl {
  checkSettings(url, driverOptions, AMQP_SETTINGS);
  let exchange: string;
  try {
    exchange = decodeURIComponent(url.pathname.replace(/^\/+/, ""));
  } catch (cause) {
    throw new InvalidUrlError(url.href, "the exchange name is not valid percent-encoding", { cause });
  }
  if (exchange.length === 0) throw new InvalidUrlError(url.href, "missing exchange (expected amqp://host:port/<exchange>)");
  if (exchange.length > 200) throw new InvalidUrlError(url.href, "an exchange name has at most 200 characters here (AMQP allows 255 for the queue names built from it)");
  const exchangeType = stringSetting(url, "exchangeType", driverOptions) ?? defaults.amqp.exchangeType;
  if (!EXCHANGE_TYPES.includes(exchangeType)) {
    throw new InvalidUrlError(url.href, `exchangeType must be one of ${EXCHANGE_TYPES.join(", ")}`);
  }
  return {
    address: amqpAddress(url, stringSetting(url, "vhost", driverOptions) ?? "/"),
    exchange,
    exchangeType,
    routingKey: stringSetting(url, "routingKey", driverOptions) ?? "",
    bindingKey: stringSetting(url, "bindingKey", driverOptions) ?? (exchangeType === "topic" ? "#" : ""),
    create: boolSetting(url, "create", driverOptions, true),
    prefetch: intSetting(url, "prefetch", driverOptions, defaults.amqp.prefetch),
    bufferTimeoutMs: intSetting(url, "bufferTimeoutMs", driverOptions, defaults.amqp.bufferTimeoutMs),
  };
}
