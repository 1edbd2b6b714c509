import { appendMessagesToStall, appendToStall, markStalledPublished, openStalledKeys, recordStall } from "@/server/services/ordering";
import type { Message, PauseEvent } from "@whisper/core";
import type { Metrics } from "../metrics";
import { describe } from "./errors";
import type { ManagedTopic } from "./managed-topics";

/** Why a key is paused here though no send of this process failed: another replica's did, or a stored stall. */
export class RemotePauseError extends Error {
  readonly code = "ERR_ORDERING_KEY_PAUSED_ELSEWHERE";
  constructor(detail: string) {
    super(detail);
    this.name = "RemotePauseError";
  }
}

export interface StallKeeperOptions {
  metrics: Metrics;
  /** A key paused because of a send of this process: other replicas should pause it too. */
  onLocalPause?(topic: string, orderingKey: string, error: string): void;
}

/**
 * Stores what the core rejects because an ordering key paused, in order, and keeps keys paused across
 * replicas and restarts.
 *
 * Contract:
 * - a pause event's messages (the failed one and everything queued behind it) are stored as a stalled entry;
 *   a publish rejected because its key is paused is appended to the key's entry; writes run in order per
 *   topic and key, and rejected() resolves only after its write, so a caller that saw the failure can read
 *   the stall right away;
 * - messages being resent by a resume (ManagedTopic.resending) are not stored again when they fail: the
 *   entry being resumed keeps them;
 * - pauseFromElsewhere() pauses a key in this core for a reason found outside it (another replica's failed
 *   send, an open entry in the database at start);
 * - syncStoredKeys() makes this core's paused keys agree with the open entries in the database: it pauses the
 *   keys that have one and unpauses those whose entry was resolved elsewhere (a `key.resumed` this replica
 *   missed), never a key whose pause may not be stored yet;
 * - flush() waits for every write under way.
 */
export class StallKeeper {
  readonly #options: StallKeeperOptions;
  readonly #chains = new Map<string, Promise<void>>();
  /** Keys this process is resuming now. */
  readonly #resuming = new Set<string>();
  /** Per key, when its last stall write ended (ms) and whether it failed. */
  readonly #lastWrite = new Map<string, { at: number; failed: boolean }>();

  constructor(options: StallKeeperOptions) {
    this.#options = options;
  }

  /** The topic's pause listener (ManagedTopics passes every pause here). */
  onPause(managed: ManagedTopic, event: PauseEvent): void {
    const messages = event.messages.filter((m) => !managed.resending.has(m.id));
    if (!(event.error instanceof RemotePauseError)) {
      this.#options.onLocalPause?.(managed.name, event.orderingKey, describe(event.error));
    }
    if (messages.length === 0) return;
    for (const m of messages) managed.stalledByPause.add(m.id);
    void this.#chain(managed.name, event.orderingKey, () => recordStall(managed.name, { ...event, messages }));
  }

  /** A publish of `message` was rejected because its key is paused: stores it (unless its pause already did). */
  async rejected(managed: ManagedTopic, message: Message, error: unknown): Promise<void> {
    const key = message.orderingKey!;
    if (managed.stalledByPause.delete(message.id)) {
      await this.#chains.get(chainKey(managed.name, key));
      return;
    }
    if (managed.resending.has(message.id)) return;
    const cause = (error as { cause?: unknown }).cause ?? error;
    await this.#chain(managed.name, key, () => appendToStall(managed.name, key, message, cause));
  }

  /**
   * Ordered messages the broker did not confirm in time (one key, in order): stores them on the key's entry,
   * then pauses the key (what is queued behind them is stored by the pause), and resolves once stored. If one
   * of them gets through after all, it is marked published there, so Resume does not send it again.
   */
  async timedOut(managed: ManagedTopic, late: Message[], error: Error): Promise<void> {
    const key = late[0]!.orderingKey!;
    for (const m of late) managed.stalledByPause.add(m.id);
    const stored = this.#chain(managed.name, key, () => appendMessagesToStall(managed.name, key, late, error));
    managed.topic.pause(key, error);
    await stored;
    await this.#chains.get(chainKey(managed.name, key));
  }

  /** A message stored as stalled went out after all (a late confirmation): marks it published. */
  delivered(topic: string, key: string, id: string): void {
    void this.#chain(topic, key, () => markStalledPublished(topic, key, id));
  }

  /** Pauses `key` of a managed topic in this core because it is paused elsewhere; false if already paused. */
  pauseFromElsewhere(managed: ManagedTopic, key: string, why: string): boolean {
    return managed.topic.pause(key, new RemotePauseError(why));
  }

  /**
   * Makes this core's paused keys agree with the database (start-up, catch-up):
   * - pauses every key that has an open stalled entry, except the keys this process is resuming right now
   *   (their entry stays open until the resend is done);
   * - unpauses a key of an ordering topic that has no open entry, because a Resume elsewhere resolved it and this
   *   replica missed its `key.resumed`, but only when the absence is certain: the key paused before the database
   *   was read, none of its writes is under way, ended after that read or failed here (a pause whose messages
   *   were never stored stays until resumed here), and a pause from another replica is older than
   *   REMOTE_WRITE_GRACE_MS (that replica stores its entry after telling the others).
   * Returns how many keys it paused and unpaused.
   */
  async syncStoredKeys(topics: Iterable<ManagedTopic>): Promise<{ paused: number; unpaused: number }> {
    const readAt = Date.now();
    const open = await openStalledKeys();
    const openIds = new Set(open.map((s) => chainKey(s.topic, s.orderingKey)));
    let paused = 0;
    let unpaused = 0;
    const byName = new Map([...topics].map((m) => [m.name, m]));
    for (const { topic, orderingKey, error } of open) {
      if (this.#resuming.has(chainKey(topic, orderingKey))) continue;
      const managed = byName.get(topic);
      if (managed?.ordering && this.pauseFromElsewhere(managed, orderingKey, `stalled: ${error}`)) paused++;
    }
    for (const managed of byName.values()) {
      if (!managed.ordering) continue;
      for (const key of managed.topic.pausedKeys()) {
        const id = chainKey(managed.name, key.orderingKey);
        if (openIds.has(id) || this.#resuming.has(id) || this.#chains.has(id)) continue;
        const lastWrite = this.#lastWrite.get(id);
        if (lastWrite && (lastWrite.failed || lastWrite.at >= readAt)) continue;
        const pausedAt = key.pausedAt.getTime();
        const settledBy = key.error instanceof RemotePauseError ? readAt - REMOTE_WRITE_GRACE_MS : readAt;
        if (pausedAt >= settledBy) continue;
        if (managed.topic.resume(key.orderingKey)) {
          unpaused++;
          console.warn(`whisper: ${managed.name} key ${key.orderingKey} unpaused: its stalled entry was resolved by another replica`);
        }
      }
    }
    return { paused, unpaused };
  }

  /** Runs `resume` (a Resume of `topic`/`key` by this process) with the key kept out of syncStoredKeys(). */
  async resuming<T>(topic: string, key: string, resume: () => Promise<T>): Promise<T> {
    const id = chainKey(topic, key);
    this.#resuming.add(id);
    try {
      return await resume();
    } finally {
      this.#resuming.delete(id);
    }
  }

  /** Waits for every stall write under way. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#chains.values()]);
  }

  #chain(topic: string, key: string, write: () => Promise<void>): Promise<void> {
    const id = chainKey(topic, key);
    const next = (this.#chains.get(id) ?? Promise.resolve())
      .then(write)
      .then(
        () => {
          this.#lastWrite.set(id, { at: Date.now(), failed: false });
          this.#options.metrics.stallWrite("ok");
        },
        (error) => {
          this.#lastWrite.set(id, { at: Date.now(), failed: true });
          this.#options.metrics.stallWrite("failed");
          console.error(`whisper: could not store stalled messages of ${topic} key ${key}:`, describe(error));
        },
      );
    this.#chains.set(id, next);
    void next.then(() => {
      if (this.#chains.get(id) === next) this.#chains.delete(id);
    });
    return next;
  }
}

/** How long a key paused by another replica may go without its stalled entry in the database (it is written after the pause is announced). */
const REMOTE_WRITE_GRACE_MS = 10_000;

function chainKey(topic: string, key: string): string {
  return `${topic}\u0000${key}`;
}
