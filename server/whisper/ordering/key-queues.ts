import type { Message } from "../message.js";

/** A message accepted by a topic and not yet settled. */
export interface Pending {
  readonly message: Message;
  readonly size: number;
  confirm: boolean;
  resolve(id: string): void;
  reject(error: unknown): void;
}

/** A paused ordering key as the topic reports it. */
export interface PausedKey {
  readonly orderingKey: string;
  /** The send error that paused the key. */
  readonly error: unknown;
  readonly pausedAt: Date;
}

interface KeyQueue {
  items: Pending[];
  head: number;
  inFlight: boolean;
}

/**
 * One serial queue per ordering key. Contract:
 * - a key has at most one batch in flight; its next batch is taken only after `finish(key)`;
 * - `pause(key)` returns (and forgets) every queued message of the key, so the caller rejects them, and
 *   marks the key paused until `resume(key)`; a paused key accepts nothing (`isPaused` is checked by the
 *   caller before enqueueing);
 * - keys with nothing queued and nothing in flight are dropped, so the map never grows with dead keys.
 */
export class KeyQueues {
  readonly #queues = new Map<string, KeyQueue>();
  readonly #paused = new Map<string, PausedKey>();
  /** Keys with queued messages and no batch in flight: ready to send. */
  readonly ready = new Set<string>();

  isPaused(key: string): PausedKey | undefined {
    return this.#paused.get(key);
  }

  enqueue(key: string, pending: Pending): void {
    let queue = this.#queues.get(key);
    if (queue === undefined) {
      queue = { items: [], head: 0, inFlight: false };
      this.#queues.set(key, queue);
    }
    queue.items.push(pending);
    if (!queue.inFlight) this.ready.add(key);
  }

  /** Takes the next batch of `key` within the limits and marks the key in flight. */
  take(key: string, maxMessages: number, maxBytes: number): Pending[] {
    const queue = this.#queues.get(key);
    this.ready.delete(key);
    if (queue === undefined || queue.inFlight) return [];
    const batch = takeWithin(queue.items, queue.head, maxMessages, maxBytes);
    queue.head += batch.length;
    if (queue.head === queue.items.length) {
      queue.items = [];
      queue.head = 0;
    }
    queue.inFlight = batch.length > 0;
    return batch;
  }

  /** The in-flight batch of `key` is done; the key becomes ready again if more is queued. */
  finish(key: string): void {
    const queue = this.#queues.get(key);
    if (queue === undefined) return;
    queue.inFlight = false;
    if (queue.items.length > queue.head) this.ready.add(key);
    else this.#queues.delete(key);
  }

  /** Pauses `key` and returns its queued messages in order (the caller rejects them). */
  pause(key: string, error: unknown): Pending[] {
    this.#paused.set(key, { orderingKey: key, error, pausedAt: new Date() });
    const queue = this.#queues.get(key);
    this.ready.delete(key);
    if (queue === undefined) return [];
    const rest = queue.items.slice(queue.head);
    queue.items = [];
    queue.head = 0;
    if (!queue.inFlight) this.#queues.delete(key);
    return rest;
  }

  /** Unpauses `key`; returns false if it was not paused. */
  resume(key: string): boolean {
    return this.#paused.delete(key);
  }

  pausedKeys(): PausedKey[] {
    return [...this.#paused.values()];
  }
}

/** The longest prefix of items[from…] within the limits; always at least one item if any remain. */
export function takeWithin(items: Pending[], from: number, maxMessages: number, maxBytes: number): Pending[] {
  let end = from;
  let bytes = 0;
  while (end < items.length && end - from < maxMessages) {
    const size = items[end]!.size;
    if (end > from && bytes + size > maxBytes) break;
    bytes += size;
    end++;
  }
  return items.slice(from, end);
}
