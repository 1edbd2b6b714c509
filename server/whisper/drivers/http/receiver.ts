import type { Message } from "../../message.js";
import { httpDefaults } from "./options.js";

/** How a request's messages ended up; the listener turns it into the HTTP answer. */
export type Outcome =
  | { kind: "acked" }
  | { kind: "nacked"; ids: string[]; retryAfterMs: number }
  | { kind: "expired"; ids: string[]; deadlineMs: number };

/**
 * The messages of one HTTP request, delivered to one or more groups. Contract: resolves exactly once — with
 * "acked" when every delivery was acked, "nacked" as soon as all are settled and at least one was nacked,
 * "expired" at the deadline or when the client went away, whichever comes first.
 */
export class Tracker {
  readonly deliveries: Delivery[] = [];
  #pending = 0;
  readonly #nacked = new Set<string>();
  #retryAfterMs = 0;
  #done = false;
  #timer: NodeJS.Timeout | undefined;
  readonly outcome: Promise<Outcome>;
  #resolve!: (outcome: Outcome) => void;

  constructor() {
    this.outcome = new Promise((resolve) => (this.#resolve = resolve));
  }

  add(delivery: Delivery): void {
    this.deliveries.push(delivery);
    this.#pending++;
  }

  /** Starts the deadline; call after every delivery was added. */
  arm(deadlineMs: number): void {
    if (this.#pending === 0) return this.#finish({ kind: "acked" });
    this.#timer = setTimeout(() => this.expire(deadlineMs), deadlineMs);
  }

  settled(delivery: Delivery, outcome: "ack" | "nack", delayMs: number): void {
    if (outcome === "nack") {
      this.#nacked.add(delivery.message.id);
      this.#retryAfterMs = Math.max(this.#retryAfterMs, delayMs);
    }
    if (--this.#pending > 0) return;
    this.#finish(
      this.#nacked.size === 0
        ? { kind: "acked" }
        : { kind: "nacked", ids: [...this.#nacked], retryAfterMs: this.#retryAfterMs },
    );
  }

  /** Ends the request unsettled: queued deliveries are withdrawn, held ones can no longer be acked. */
  expire(deadlineMs: number): void {
    if (this.#done) return;
    const ids = new Set<string>();
    for (const delivery of this.deliveries) if (delivery.withdraw()) ids.add(delivery.message.id);
    this.#finish({ kind: "expired", ids: [...ids], deadlineMs });
  }

  #finish(outcome: Outcome): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    this.#resolve(outcome);
  }
}

/** A member of a group: one driver subscription, woken when deliveries are queued. */
export interface Member {
  wake(): void;
  /** A delivery it held was settled or withdrawn. */
  forget(delivery: Delivery): void;
}

/** One message of one request for one group. The driver hands the object itself out as the ack id. */
export class Delivery {
  state: "queued" | "held" | "acked" | "nacked" | "withdrawn" = "queued";
  holder: Member | undefined;
  /** "received" groups only: redelivers the message if it is held past the ack deadline. */
  timer: NodeJS.Timeout | undefined;

  constructor(
    readonly message: Message,
    readonly attempt: number,
    readonly group: Group,
    /** The request waiting for this settlement; none in "received" groups (already answered). */
    readonly tracker: Tracker | undefined,
  ) {}

  /** Acks or nacks; ignored unless queued or held (so only the first settlement counts). */
  settle(outcome: "ack" | "nack", delayMs = 0): void {
    if (this.state !== "held" && this.state !== "queued") return;
    this.state = outcome === "ack" ? "acked" : "nacked";
    clearTimeout(this.timer);
    this.holder?.forget(this);
    this.group.settled(this, outcome, delayMs);
    this.tracker?.settled(this, outcome, delayMs);
  }

  /** Withdraws an unsettled delivery (deadline, client gone). Returns true if it was unsettled. */
  withdraw(): boolean {
    if (this.state !== "held" && this.state !== "queued") return false;
    this.state = "withdrawn";
    this.holder?.forget(this);
    this.group.settled(this, "nack", 0);
    return true;
  }
}

/**
 * When a request is answered: "settled" (default) once its messages are settled, so the sender's retry is
 * the redelivery; "received" as soon as they are queued, after which the group redelivers nacked and
 * expired messages itself, in memory (lost if the process stops first).
 */
export type RespondMode = "settled" | "received";

/**
 * The subscriptions of one name on one path (a private subscription is a group of one). Contract: every
 * message of an accepted request is queued once per group and handed to one member. In "settled" mode
 * attempts are numbered from the ids this group nacked or let expire before (bounded memory), since the
 * redelivery is the sender's retry of the same event; in "received" mode the group requeues nacked and
 * expired deliveries with attempt + 1 and drops what is queued when its last member leaves.
 */
export class Group {
  readonly members = new Set<Member>();
  #queue: Delivery[] = [];
  #head = 0;
  /** Deliveries queued or held, for the maxQueued bound. */
  #unsettled = 0;
  #disposed = false;
  /** source+id → the attempt number its next arrival gets. */
  readonly #attempts = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly ackDeadlineMs: number,
    readonly maxQueued: number,
    readonly maxBodyBytes: number,
    readonly respond: RespondMode,
  ) {}

  hasRoom(count: number): boolean {
    return this.#unsettled + count <= this.maxQueued;
  }

  get unsettled(): number {
    return this.#unsettled;
  }

  /** Queues a message of a request; the tracker waits for it only in "settled" mode. */
  enqueue(message: Message, tracker: Tracker): void {
    if (this.respond === "received") return this.#push(new Delivery(message, 1, this, undefined));
    const delivery = new Delivery(message, this.#attempts.get(attemptKey(message)) ?? 1, this, tracker);
    tracker.add(delivery);
    this.#push(delivery);
  }

  #push(delivery: Delivery): void {
    this.#queue.push(delivery);
    this.#unsettled++;
  }

  wakeAll(): void {
    for (const member of this.members) member.wake();
  }

  /** Up to `max` queued deliveries for `member`, oldest first; withdrawn ones are dropped on the way. */
  take(member: Member, max: number): Delivery[] {
    const out: Delivery[] = [];
    while (out.length < max && this.#head < this.#queue.length) {
      const delivery = this.#queue[this.#head++]!;
      if (delivery.state !== "queued") continue;
      delivery.state = "held";
      delivery.holder = member;
      if (this.respond === "received") {
        delivery.timer = setTimeout(() => delivery.settle("nack"), this.ackDeadlineMs);
        delivery.timer.unref();
      }
      out.push(delivery);
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return out;
  }

  settled(delivery: Delivery, outcome: "ack" | "nack", delayMs: number): void {
    if (this.respond === "received") {
      if (outcome === "ack" || this.#disposed) return void this.#unsettled--;
      // Still counted as unsettled while it waits for its redelivery.
      const again = new Delivery(delivery.message, delivery.attempt + 1, this, undefined);
      const requeue = () => {
        this.#unsettled--;
        if (this.#disposed) return;
        this.#push(again);
        this.wakeAll();
      };
      if (delayMs > 0) setTimeout(requeue, delayMs).unref();
      else queueMicrotask(requeue);
      return;
    }
    this.#unsettled--;
    const key = attemptKey(delivery.message);
    this.#attempts.delete(key);
    if (outcome === "ack") return;
    this.#attempts.set(key, delivery.attempt + 1);
    if (this.#attempts.size > httpDefaults.maxRememberedAttempts) {
      this.#attempts.delete(this.#attempts.keys().next().value!);
    }
  }

  /** The group is gone (its last member left): queued deliveries are nacked (answered 503 in "settled" mode). */
  dispose(): void {
    this.#disposed = true;
    for (let i = this.#head; i < this.#queue.length; i++) this.#queue[i]!.settle("nack");
    this.#queue = [];
    this.#head = 0;
  }
}

function attemptKey(message: Message): string {
  return `${message.source}\n${message.id}`;
}
