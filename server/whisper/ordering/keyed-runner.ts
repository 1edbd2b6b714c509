/**
 * Runs a task per received item, the receive side of ordering keys. Contract:
 * - at most `concurrency` tasks run at once; items wait, in arrival order, for a free slot;
 * - items with the same ordering key run one at a time in arrival order, other keys proceed concurrently;
 * - `run` must not reject (the caller handles its task's errors); `onFinished` is called after each task;
 * - takeUnstarted() takes back every item that has not started; idle() waits (bounded) for running ones.
 */
export class KeyedRunner<T extends { readonly orderingKey: string | undefined }> {
  readonly #concurrency: number;
  readonly #run: (item: T) => Promise<void>;
  readonly #onFinished: (item: T) => void;
  readonly #running = new Set<T>();
  #waiting: T[] = [];
  #waitingHead = 0;
  /** Ordering keys with a task running, each with the items waiting behind it. */
  readonly #busyKeys = new Map<string, T[]>();
  #idleWaiter: (() => void) | undefined;

  constructor(concurrency: number, run: (item: T) => Promise<void>, onFinished: (item: T) => void) {
    this.#concurrency = concurrency;
    this.#run = run;
    this.#onFinished = onFinished;
  }

  /** Routes a new item: behind its key if the key is busy, else running or waiting for a slot. */
  dispatch(item: T): void {
    const key = item.orderingKey;
    if (key !== undefined) {
      const behind = this.#busyKeys.get(key);
      if (behind) return void behind.push(item);
      this.#busyKeys.set(key, []);
    }
    this.#startOrWait(item);
  }

  /** Takes back every item that has not started (each key's items in order); nothing waiting remains. */
  takeUnstarted(): T[] {
    const unstarted = this.#waiting.slice(this.#waitingHead);
    this.#waiting = [];
    this.#waitingHead = 0;
    for (const behind of this.#busyKeys.values()) unstarted.push(...behind.splice(0));
    return unstarted;
  }

  /** Waits up to `timeoutMs` for the running tasks to finish; returns those still running then. */
  async idle(timeoutMs: number): Promise<T[]> {
    if (this.#running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (this.#idleWaiter = resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
      this.#idleWaiter = undefined;
    }
    return [...this.#running];
  }

  #startOrWait(item: T): void {
    if (this.#running.size < this.#concurrency) this.#start(item);
    else this.#waiting.push(item);
  }

  #start(item: T): void {
    this.#running.add(item);
    void this.#run(item).then(() => this.#finished(item));
  }

  #finished(item: T): void {
    this.#running.delete(item);
    this.#onFinished(item);
    const key = item.orderingKey;
    if (key !== undefined) {
      const behind = this.#busyKeys.get(key);
      if (behind && behind.length > 0) this.#startOrWait(behind.shift()!);
      else this.#busyKeys.delete(key);
    }
    while (this.#running.size < this.#concurrency && this.#waitingHead < this.#waiting.length) {
      const next = this.#waiting[this.#waitingHead++]!;
      if (this.#waitingHead === this.#waiting.length) {
        this.#waiting = [];
        this.#waitingHead = 0;
      }
      this.#start(next);
    }
    if (this.#running.size === 0) this.#idleWaiter?.();
  }
}
