import type { Middleware, PublishOptions } from "./types.js";

const CONFIRM: PublishOptions = Object.freeze({ confirm: true });

/**
 * pubAck(): publish resolves only once the broker confirmed the message (JetStream ack, an HTTP 2xx, a NATS
 * flush round trip; the in-process bus confirms on enqueue). Guarantee: a resolved publish is stored by the
 * broker; without it a resolved publish may still be lost in a client or socket buffer.
 */
export function pubAck(): Middleware {
  return {
    name: "pubAck",
    publish: (next) => (message) => next(message, CONFIRM),
  };
}
