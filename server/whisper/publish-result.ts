import { AbortedError } from "./errors.js";

/**
 * The outcome of one publish: awaitable (resolves to the message id, or rejects with a coded error), and
 * `get({ signal })` to stop waiting early. Stopping waiting does not cancel the publish. A failed result that
 * nobody awaits does not raise an unhandled rejection.
 */
export class PublishResult implements Promise<string> {
  readonly [Symbol.toStringTag] = "PublishResult";
  /** The id of the message being published (undefined only if the message itself was invalid). */
  readonly id: string | undefined;
  readonly #promise: Promise<string>;

  constructor(id: string | undefined, promise: Promise<string>) {
    this.id = id;
    this.#promise = promise;
    promise.catch(() => {});
  }

  then<A = string, B = never>(
    onFulfilled?: ((id: string) => A | PromiseLike<A>) | null,
    onRejected?: ((error: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#promise.then(onFulfilled, onRejected);
  }

  catch<B = never>(onRejected?: ((error: unknown) => B | PromiseLike<B>) | null): Promise<string | B> {
    return this.#promise.catch(onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<string> {
    return this.#promise.finally(onFinally);
  }

  /** Waits for the id; rejects with AbortedError if `signal` aborts first. */
  get({ signal }: { signal?: AbortSignal } = {}): Promise<string> {
    if (!signal) return this.#promise;
    if (signal.aborted) return Promise.reject(new AbortedError(signal.reason));
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(new AbortedError(signal.reason));
      signal.addEventListener("abort", onAbort, { once: true });
      this.#promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }
}
