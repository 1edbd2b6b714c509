import { PublishError } from "../../errors.js";
import type { Message } from "../../message.js";

/** One queued or in-flight delivery inside a group. */
export interface Entry {
  readonly message: Message;
  readonly ackId: number;
  readonly deliveryAttempt: number;
  /** When it was handed out (for the ack deadline); 0 while queued. */
  deliveredAt: number;
  holder: Member | undefined;
}

/** A subscriber attached to a group; woken when messages arrive. */
export interface Member {
  wake(): void;
}

/**
 * A named (shared) or private subscription on one topic of a bus: a FIFO of ready deliveries plus the
 * in-flight ones. Contract: every message sent to the topic while the group exists is delivered to one of
 * its members; unacked deliveries past the ack deadline, nacked ones, and those held by a member that left
 * go back to the queue with attempt + 1. When the last member leaves, the group and its messages are dropped.
 */
export class Group {
  #queue: Entry[] = [];
  #head = 0;
  readonly #inFlight = new Map<number, Entry>();
  readonly members = new Set<Member>();
  #nextAckId = 1;
  #sweeper: NodeJS.Timeout | undefined;
  /** Deliveries handed back for another attempt (nack, ack deadline, a member leaving), ever. */
  redelivered = 0;

  constructor(
    readonly ackDeadlineMs: number,
    readonly maxQueued: number,
  ) {}

  get queued(): number {
    return this.#queue.length - this.#head;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Room for `count` more messages under the bound (queued + in flight). */
  hasRoom(count: number): boolean {
    return this.queued + this.#inFlight.size + count <= this.maxQueued;
  }

  push(messages: readonly Message[]): void {
    for (const message of messages) {
      this.#queue.push({ message, ackId: this.#nextAckId++, deliveryAttempt: 1, deliveredAt: 0, holder: undefined });
    }
    this.#wakeMembers();
  }

  /** Hands up to `max` ready deliveries to `member`, oldest first. */
  take(member: Member, max: number): Entry[] {
    const available = this.#queue.length - this.#head;
    if (available === 0) return [];
    const n = Math.min(max, available);
    const out = this.#queue.slice(this.#head, this.#head + n);
    this.#head += n;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    const now = Date.now();
    for (const entry of out) {
      entry.deliveredAt = now;
      entry.holder = member;
      this.#inFlight.set(entry.ackId, entry);
    }
    this.#armSweeper();
    return out;
  }

  ack(ackIds: readonly unknown[]): void {
    for (const id of ackIds) this.#inFlight.delete(id as number);
  }

  nack(ackIds: readonly unknown[], delayMs: number): void {
    const entries: Entry[] = [];
    for (const id of ackIds) {
      const entry = this.#inFlight.get(id as number);
      if (entry === undefined) continue;
      this.#inFlight.delete(entry.ackId);
      entries.push(entry);
    }
    if (entries.length === 0) return;
    if (delayMs <= 0) this.#requeue(entries);
    else setTimeout(() => this.#requeue(entries), delayMs).unref();
  }

  /** A member leaves: what it held goes back to the queue for the others. */
  leave(member: Member): void {
    this.members.delete(member);
    const held: Entry[] = [];
    for (const entry of this.#inFlight.values()) if (entry.holder === member) held.push(entry);
    for (const entry of held) this.#inFlight.delete(entry.ackId);
    if (held.length > 0) this.#requeue(held);
    if (this.members.size === 0) this.dispose();
  }

  dispose(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    this.#queue = [];
    this.#head = 0;
    this.#inFlight.clear();
  }

  #requeue(entries: Entry[]): void {
    this.redelivered += entries.length;
    for (const entry of entries) {
      // A new entry: the one handed out stays as it was delivered, and a fresh ack id means a late ack of
      // the previous delivery cannot settle this one.
      this.#queue.push({
        message: entry.message,
        ackId: this.#nextAckId++,
        deliveryAttempt: entry.deliveryAttempt + 1,
        deliveredAt: 0,
        holder: undefined,
      });
    }
    this.#wakeMembers();
  }

  #wakeMembers(): void {
    for (const member of this.members) member.wake();
  }

  /** Redelivers in-flight entries past the ack deadline. Map order is delivery order, so it stops early. */
  #armSweeper(): void {
    if (this.#sweeper !== undefined) return;
    const every = Math.max(10, Math.min(1000, Math.floor(this.ackDeadlineMs / 4)));
    this.#sweeper = setInterval(() => {
      const cutoff = Date.now() - this.ackDeadlineMs;
      const expired: Entry[] = [];
      for (const entry of this.#inFlight.values()) {
        if (entry.deliveredAt > cutoff) break;
        expired.push(entry);
      }
      for (const entry of expired) this.#inFlight.delete(entry.ackId);
      if (expired.length > 0) this.#requeue(expired);
      if (this.#inFlight.size === 0) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
      }
    }, every);
    this.#sweeper.unref();
  }
}

/** One topic of a bus: its groups by name. */
class BusTopic {
  readonly groups = new Map<string, Group>();
  /** Test hook state: while set, sends to this topic fail with this error. */
  failure: Error | undefined;
}

/**
 * An isolated in-process message bus. Buses are looked up by name (the `bus` URL parameter, "default" when
 * absent); nothing closes a bus, so one user's close() never affects another's.
 */
export class Bus {
  readonly #topics = new Map<string, BusTopic>();

  constructor(readonly name: string) {}

  #topic(name: string): BusTopic {
    let topic = this.#topics.get(name);
    if (!topic) this.#topics.set(name, (topic = new BusTopic()));
    return topic;
  }

  /** Delivers the batch to every group of the topic, or to none if any group lacks room. */
  send(topicName: string, messages: readonly Message[]): void {
    const topic = this.#topics.get(topicName);
    if (!topic) return;
    if (topic.failure) throw topic.failure;
    for (const [name, group] of topic.groups) {
      if (!group.hasRoom(messages.length)) {
        throw new PublishError(
          `eventbus subscription ${name} on ${topicName} holds ${group.queued + group.inFlight} messages (limit ${group.maxQueued})`,
          true,
        );
      }
    }
    for (const group of topic.groups.values()) group.push(messages);
  }

  /** Joins (creating if needed) the group `name` of a topic. */
  join(topicName: string, groupName: string, member: Member, ackDeadlineMs: number, maxQueued: number): Group {
    const topic = this.#topic(topicName);
    let group = topic.groups.get(groupName);
    if (!group) topic.groups.set(groupName, (group = new Group(ackDeadlineMs, maxQueued)));
    group.members.add(member);
    return group;
  }

  leave(topicName: string, groupName: string, member: Member): void {
    const topic = this.#topics.get(topicName);
    const group = topic?.groups.get(groupName);
    if (!topic || !group) return;
    group.leave(member);
    if (group.members.size === 0) topic.groups.delete(groupName);
    if (topic.groups.size === 0 && !topic.failure) this.#topics.delete(topicName);
  }

  /** Each subscription (group) of a topic: messages waiting, handed out and not yet settled, redelivered. */
  subscriptionStats(topicName: string): Array<{ name: string; queued: number; inFlight: number; redelivered: number }> {
    const topic = this.#topics.get(topicName);
    if (!topic) return [];
    return [...topic.groups].map(([name, group]) => ({
      name,
      queued: group.queued,
      inFlight: group.inFlight,
      redelivered: group.redelivered,
    }));
  }

  /**
   * Makes every send to `topicName` fail with `error` (retryable unless said otherwise) until called again
   * with undefined. For tests and demos of failure handling (ordering-key pauses); never set by the core.
   */
  setFailure(topicName: string, error: Error | undefined): void {
    if (error) this.#topic(topicName).failure = error;
    else {
      const topic = this.#topics.get(topicName);
      if (!topic) return;
      topic.failure = undefined;
      if (topic.groups.size === 0) this.#topics.delete(topicName);
    }
  }
}

const buses = new Map<string, Bus>();

/** The bus of that name, created on first use. */
export function getBus(name = "default"): Bus {
  let bus = buses.get(name);
  if (!bus) buses.set(name, (bus = new Bus(name)));
  return bus;
}

