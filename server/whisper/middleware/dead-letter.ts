import { defaults } from "../defaults.js";
import { InvalidOptionsError } from "../errors.js";
import type { Message } from "../message.js";
import type { Middleware } from "./types.js";

/** Where dead letters go: an open Topic, or anything that publishes like one. */
export interface DeadLetterPublisher {
  publish(message: Message): PromiseLike<string>;
}

export interface DeadLetterOptions {
  /** Deliveries after which a still-failing message is moved (drivers that redeliver). */
  after?: number;
}

/**
 * deadLetter(publisher, { after }): when the handler fails on delivery `after` or later (or on any delivery
 * when the driver cannot redeliver), publishes the message through `publisher` — same id and data, with the
 * extensions `deadletterreason` (the error message), `originaltopic` and `originalid` — and then lets the
 * original be acked. Earlier failures propagate (so they are nacked and redelivered). If the dead-letter
 * publish fails, the original failure propagates and the message is redelivered: nothing is lost.
 * The caller owns `publisher` (usually an open Topic): the middleware never opens or closes it, so close it
 * after the subscriptions that use it.
 * Guarantee: a poison message stops cycling after `after` deliveries without being dropped.
 */
export function deadLetter(
  publisher: DeadLetterPublisher,
  { after = defaults.middleware.deadLetterAfter }: DeadLetterOptions = {},
): Middleware {
  if (typeof publisher?.publish !== "function") {
    throw new InvalidOptionsError("deadLetter(): publisher must be an open Topic (something with publish())");
  }
  if (!Number.isInteger(after) || after < 1) throw new InvalidOptionsError("deadLetter(): after must be an integer ≥ 1");
  return {
    name: "deadLetter",
    receive: (next, context) => async (message) => {
      try {
        await next(message);
      } catch (error) {
        const exhausted = message.deliveryAttempt >= after || !context.capabilities.redelivery;
        if (!exhausted || message.settlement !== "pending") throw error;
        const reason = error instanceof Error ? error.message : String(error);
        try {
          await publisher.publish(
            message.with({
              extensions: {
                deadletterreason: reason.slice(0, 1024),
                originaltopic: context.topic,
                originalid: message.id,
              },
            }),
          );
        } catch {
          throw error; // the original failure: the message is nacked and comes back
        }
      }
    },
  };
}
