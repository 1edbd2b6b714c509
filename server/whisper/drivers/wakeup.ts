/**
 * The wait of a push-fed receiveBatch(): wait(signal) resolves at the next wake() or when `signal` aborts,
 * whichever comes first, and leaves no listener behind. One waiter at a time (the portable subscription
 * never has two receiveBatch calls in flight).
 */
export class Wakeup {
  #waiter: (() => void) | undefined;

  wake(): void {
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter();
    }
  }

  wait(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const onAbort = () => this.wake();
      this.#waiter = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}
