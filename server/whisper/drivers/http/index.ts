import type { Driver, DriverCapabilities } from "../../driver.js";
import { newId } from "../../message.js";
import { subscriptionSettings, topicSettings } from "./options.js";
import { HttpSubscription } from "./subscription.js";
import { HttpTopic } from "./topic.js";

/**
 * CloudEvents over HTTP: `http://host:port/path` and `https://…` (see docs/drivers-http.md).
 *
 * - nack: a nack (or a handler that throws) answers the sender 5xx, so the sender sends the event again;
 * - redelivery: the sender's retry is the redelivery (whisper topics retry with backoff; other senders per
 *   their own policy); the receiver numbers attempts by remembering the ids it nacked;
 * - ordering: one request at a time per ordering key, the next only after the previous was acked;
 * - persistence: none — nothing is kept when nobody listens; the sender's publish fails after its retries;
 * - sharedSubscriptions: subscriptions of one name on one path in one process split its requests.
 */
export const httpCapabilities: DriverCapabilities = Object.freeze({
  nack: true,
  redelivery: true,
  ordering: true,
  persistence: false,
  sharedSubscriptions: true,
});

export const httpDriver: Driver = {
  async openTopic(url, options) {
    return new HttpTopic(httpCapabilities, topicSettings(url, options.driver));
  },
  async openSubscription(url, options) {
    const settings = subscriptionSettings(url, options.driver);
    return HttpSubscription.open(httpCapabilities, settings, options.name ?? `private-${newId()}`, options.ackDeadlineMs);
  },
};
