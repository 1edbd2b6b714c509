import { HandlerTimeoutError, InvalidOptionsError } from "../errors.js";
import type { Middleware } from "./types.js";

/**
 * timeout(ms): fails a handler call that has not finished within `ms` with HandlerTimeoutError, so the
 * message is nacked (with subAck) and redelivered. JavaScript cannot stop the handler itself: it keeps
 * running, so a redelivery may overlap it. Guarantee: a hung handler no longer holds its message forever.
 */
export function timeout(ms: number): Middleware {
  if (!Number.isFinite(ms) || ms <= 0) throw new InvalidOptionsError("timeout(): ms must be a positive number");
  return {
    name: "timeout",
    receive: (next) => (message) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new HandlerTimeoutError(ms)), ms);
        next(message).then(
          (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          (error: unknown) => {
            clearTimeout(timer);
            reject(error);
          },
        );
      }),
  };
}
