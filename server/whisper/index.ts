/**
 * whisper: send and receive CloudEvents over any protocol through one small API.
 * This file is the public surface; everything not exported here is internal.
 */
import { registerDriver } from "./registry";

export { openTopic, Topic, type TopicOptions, type PauseEvent } from "./topic";
export {
  openSubscription,
  Subscription,
  type SubscriptionOptions,
  type Handler,
  type ErrorListener,
} from "./subscription";
export { PublishResult } from "./publish-result";
export {
  createMessage,
  newId,
  Message,
  ReceivedMessage,
  type MessageInit,
  type ExtensionValue,
  type Body,
} from "./message";
export { registerDriver, registeredSchemes, type DriverFactory } from "./registry";
export type {
  Driver,
  DriverCapabilities,
  DriverTopic,
  DriverSubscription,
  DriverDelivery,
  DriverTopicOptions,
  DriverSubscriptionOptions,
  SendOptions,
} from "./driver";
export type { PausedKey } from "./ordering/key-queues";
export type {
  Middleware,
  PublishNext,
  ReceiveNext,
  PublishOptions,
  Counters,
  TopicContext,
  SubscriptionContext,
} from "./middleware/types";
export { pubAck } from "./middleware/pub-ack";
export { subAck } from "./middleware/sub-ack";
export { count } from "./middleware/count";
export { retry, type RetryOptions } from "./middleware/retry";
export { deadLetter, type DeadLetterOptions, type DeadLetterPublisher } from "./middleware/dead-letter";
export { dedup, type DedupOptions } from "./middleware/dedup";
export { timeout } from "./middleware/timeout";
export * from "./errors";
export { defaults } from "./defaults";
export { backoffDelay } from "./timing";
export { getBus } from "./drivers/eventbus/bus";
export { natsServerAddress } from "./drivers/nats/url";

// Built-in drivers. Network drivers load their client libraries only when their scheme is first used.
registerDriver("eventbus", async () => (await import("./drivers/eventbus/index")).eventbusDriver);
registerDriver("nats", async () => (await import("./drivers/nats/index")).natsDriver);
registerDriver("jetstream", async () => (await import("./drivers/jetstream/index")).jetstreamDriver);
registerDriver("http", async () => (await import("./drivers/http/index")).httpDriver);
registerDriver("https", async () => (await import("./drivers/http/index")).httpDriver);
registerDriver("redis", async () => (await import("./drivers/redis/index")).redisDriver);
registerDriver("amqp", async () => (await import("./drivers/amqp/index")).amqpDriver);
registerDriver("mqtt", async () => (await import("./drivers/mqtt/index")).mqttDriver);
export * as wire from "./wire";
