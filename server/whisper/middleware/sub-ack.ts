import type { Middleware } from "./types.js";

/**
 * subAck(): acks a message after its handler returns and nacks it when the handler throws, unless the
 * handler settled it itself. Guarantee: at-least-once — a message is acked only after it was handled, so a
 * crash mid-handler means redelivery (on drivers that redeliver), never a silent loss.
 */
export function subAck(): Middleware {
  return {
    name: "subAck",
    receive: (next) => async (message) => {
      try {
        await next(message);
      } catch (error) {
        message.nack();
        throw error;
      }
      message.ack();
    },
  };
}
