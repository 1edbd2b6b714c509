import { defaults } from "../defaults";
import { openTopic, type Topic } from "../topic";
import type { Middleware } from "./types";

export interface DeadLetterOptions {
  /** Deliveries after which a still-failing message is moved (drivers that redeliver). */
  after?: number;
  /** Opens the dead-letter topic; default openTopic(url). */
  open?: (url: string) => Promise<Topic>;
}

/**
 * deadLetter(topicUrl, { after }): when the handler fails on delivery `after` or later (or on any delivery
 * when the driver cannot redeliver), publishes the message to the dead-letter topic — same id and data, with
 * the extensions `deadletterreason` (the error message), `originaltopic` and `originalid` — and then lets the
 * original be acked. Earlier failures propagate (so they are nacked and redelivered). If the dead-letter
 * publish fails, the original failure propagates and the message is redelivered: nothing is lost.
 * Guarantee: a poison message stops cycling after `after` deliveries without being dropped.
 */
export function deadLetter(
  topicUrl: string,
  { after = defaults.middleware.deadLetterAfter, open = (url) => openTopic(url) }: DeadLetterOptions = {},
): Middleware {
  if (!Number.isInteger(after) || after < 1) throw new RangeError("deadLetter(): after must be an integer ≥ 1");
  let topic: Promise<Topic> | undefined;
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
          topic ??= open(topicUrl);
          await (await topic).publish(
            message.with({
              extensions: {
                deadletterreason: reason.slice(0, 1024),
                originaltopic: context.topic,
                originalid: message.id,
              },
            }),
          );
        } catch {
          topic = undefined; // reopen next time
          throw error; // the original failure: the message is nacked and comes back
        }
      }
    },
  };
}
