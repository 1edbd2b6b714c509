import type { Middleware } from "./types.js";

/**
 * count(): maintains the counters that topic.stats() and sub.stats() return — published / publishFailed on a
 * topic; received / acked / nacked / failed on a subscription. Changes no delivery guarantee.
 */
export function count(): Middleware {
  return {
    name: "count",
    publish: (next, { counters }) => (message, options) =>
      next(message, options).then(
        (id) => {
          counters.published++;
          return id;
        },
        (error: unknown) => {
          counters.publishFailed++;
          throw error;
        },
      ),
    receive: (next, { counters, onSettle }) => {
      onSettle((_message, outcome) => {
        if (outcome === "ack") counters.acked++;
        else counters.nacked++;
      });
      return async (message) => {
        counters.received++;
        try {
          await next(message);
        } catch (error) {
          counters.failed++;
          throw error;
        }
      };
    },
  };
}
