/**
 * whisper: send and receive CloudEvents over any protocol through one small API.
 * This file is the public surface; everything not exported here is internal.
 */
import { registerBuiltinDrivers } from "./builtin-drivers.js";

export { openTopic, Topic, type TopicOptions, type PauseEvent } from "./topic.js";
export {
  openSubscription,
  Subscription,
  type SubscriptionOptions,
  type Handler,
  type ErrorListener,
  EncodedDelivery,
} from "./subscription.js";
export { decodeEncoded, encodedSize, type EncodedMessage, type EncodedNatsMessage, type EncodedDecodedMessage } from "./encoded.js";
export { PublishResult } from "./publish-result.js";
export {
  createMessage,
  newId,
  Message,
  ReceivedMessage,
  type MessageInit,
  type ExtensionValue,
  type Body,
} from "./message.js";
export { registerDriver, registeredSchemes, type DriverFactory } from "./registry.js";
export type {
  Driver,
  DriverCapabilities,
  DriverTopic,
  DriverSubscription,
  DriverDelivery,
  DriverTopicOptions,
  DriverSubscriptionOptions,
  SendOptions,
} from "./driver.js";
export type { PausedKey } from "./ordering/key-queues.js";
export type {
  Middleware,
  PublishNext,
  ReceiveNext,
  PublishOptions,
  Counters,
  TopicContext,
  SubscriptionContext,
} from "./middleware/types.js";
export { pubAck } from "./middleware/pub-ack.js";
export { subAck } from "./middleware/sub-ack.js";
export { count } from "./middleware/count.js";
export { retry, type RetryOptions } from "./middleware/retry.js";
export { deadLetter, type DeadLetterOptions, type DeadLetterPublisher } from "./middleware/dead-letter.js";
export { dedup, type DedupOptions } from "./middleware/dedup.js";
export { timeout } from "./middleware/timeout.js";
export * from "./errors.js";
export { defaults } from "./defaults.js";
export { backoffDelay } from "./timing.js";
export { getBus } from "./drivers/eventbus/bus.js";
export { natsServerAddress } from "./drivers/nats/url.js";
export { lingerOnUnreadBody, type LingerBounds } from "./drivers/http/linger.js";

export * as wire from "./wire.js";

registerBuiltinDrivers();
