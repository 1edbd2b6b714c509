import type { Redis } from "ioredis";
import { defaults } from "../../defaults.js";
import type { DriverDelivery, DriverSubscription, DriverSubscriptionOptions } from "../../driver.js";
import { InvalidOptionsError } from "../../errors.js";
import { newId } from "../../message.js";
import { DeliveryBuffer, type SharedLease } from "../shared.js";
import { decodeEntry, entrySequence, sequenceEntryId } from "./codec.js";
import { acquireRedis, isRetryableRedisError, wrapRedisError, type RedisConnection } from "./connection.js";
import { redisCapabilities, type RedisUrl } from "./options.js";
import {
  createPrivateGroup,
  destroyOrphanGroups,
  destroyPrivateGroup,
  LeaseRenewal,
  PRIVATE_GROUP_PREFIX,
  privateGroupName,
} from "./private-groups.js";

/** The ack id of one delivery: the entry id, tied to the subscription that handed it out. */
class RedisAckId {
  constructor(
    readonly owner: RedisSubscription,
    readonly entryId: string,
  ) {}
}

type RawEntry = [Buffer, Buffer[] | null];

/**
 * A consumer (unique per subscription) in a consumer group (the subscription name; a private subscription has
 * a group of its own, created at `$`, kept by a lease while open and destroyed on close: private-groups.ts).
 * New entries come from a blocking XREADGROUP on a connection of the subscription's own; entries idle past the
 * ack deadline in the group (this subscription's, or those of a consumer that went away) are taken over with
 * XAUTOCLAIM, with their delivery count from XPENDING. A nack sets the entry's idle time so that the next claim pass (after the nack's delay) takes it.
 * Contract beyond driver.ts: receiveBatch never has more than one read and one claim in flight, and holds
 * at most one read's worth of entries; what it holds at close() is handed back at once.
 */
class RedisSubscription implements DriverSubscription {
  readonly capabilities = redisCapabilities;
  readonly #lease: SharedLease<RedisConnection>;
  readonly #reader: Redis;
  readonly #stream: string;
  readonly #group: string;
  readonly #consumer = `whisper-${newId()}`;
  /** Keeps a private subscription's group alive; undefined for a named subscription. */
  readonly #privateGroup: LeaseRenewal | undefined;
  readonly #ackDeadlineMs: number;
  readonly #claimIntervalMs: number;
  readonly #server: string;
  readonly #source: string;
  readonly #deliveries = new DeliveryBuffer();
  #reading: Promise<void> | undefined;
  #claiming: Promise<void> | undefined;
  #claimCursor = "0-0";
  #nextClaimAt = 0;
  #closing: Promise<void> | undefined;

  constructor(lease: SharedLease<RedisConnection>, reader: Redis, url: RedisUrl, group: string, isPrivate: boolean, ackDeadlineMs: number) {
    this.#privateGroup = isPrivate ? new LeaseRenewal(lease.connection.client, url.stream, group, url.privateLeaseMs) : undefined;
    this.#lease = lease;
    this.#reader = reader;
    this.#stream = url.stream;
    this.#group = group;
    this.#ackDeadlineMs = ackDeadlineMs;
    this.#claimIntervalMs = Math.max(10, Math.min(defaults.redis.claimIntervalMs, Math.floor(ackDeadlineMs / 2)));
    this.#server = lease.connection.address.url;
    const { host, port } = lease.connection.address;
    this.#source = `redis://${host.includes(":") ? `[${host}]` : host}:${port}/${encodeURIComponent(url.stream)}`;
    this.#nextClaimAt = Date.now() + this.#claimIntervalMs;
  }

  get #client(): Redis {
    return this.#lease.connection.client;
  }

  /** Waits on the buffer, starting a read when none is in flight and a claim step when one is due. */
  receiveBatch(maxMessages: number, signal: AbortSignal): Promise<DriverDelivery[]> {
    return this.#deliveries.take(maxMessages, signal, () => {
      const now = Date.now();
      if (this.#claiming === undefined && now >= this.#nextClaimAt) this.#claiming = this.#claim(maxMessages);
      this.#reading ??= this.#read(maxMessages);
      const timer = setTimeout(() => this.#deliveries.wake(), Math.max(0, this.#nextClaimAt - now));
      return () => clearTimeout(timer);
    });
  }

  /** One blocking XREADGROUP for new entries; its outcome lands in the buffer (or as the failure). */
  async #read(count: number): Promise<void> {
    try {
      const reply = (await this.#reader.callBuffer(
        "XREADGROUP", "GROUP", this.#group, this.#consumer, "COUNT", count, "BLOCK", defaults.redis.blockMs,
        "STREAMS", this.#stream, ">",
      )) as Array<[Buffer, RawEntry[]]> | null;
      const entries = reply?.[0]?.[1] ?? [];
      this.#take(entries.map((entry) => [entry, 1] as const));
    } catch (error) {
      this.#deliveries.fail(wrapRedisError(error, this.#server, `XREADGROUP on stream ${this.#stream}`));
    } finally {
      this.#reading = undefined;
      this.#deliveries.wake();
    }
  }

  /** One XAUTOCLAIM step of the pass over the group's pending entries idle past the ack deadline. */
  async #claim(count: number): Promise<void> {
    try {
      const reply = (await this.#client.callBuffer(
        "XAUTOCLAIM", this.#stream, this.#group, this.#consumer, this.#ackDeadlineMs, this.#claimCursor, "COUNT", count,
      )) as [Buffer, Array<RawEntry | null>, Buffer[]?];
      this.#claimCursor = reply[0].toString();
      const entries = reply[1].filter((entry): entry is RawEntry => entry !== null && entry[1] !== null);
      // A finished pass waits an interval; an unfinished one goes on at the next receive.
      this.#nextClaimAt = this.#claimCursor === "0-0" ? Date.now() + this.#claimIntervalMs : 0;
      if (entries.length === 0) return;
      const pipeline = this.#client.pipeline();
      for (const [id] of entries) pipeline.xpending(this.#stream, this.#group, id, id, 1, this.#consumer);
      const counts = (await pipeline.exec()) ?? [];
      this.#take(
        entries.map((entry, i) => {
          const row = (counts[i]?.[1] as Array<[string, string, number, number]> | undefined)?.[0];
          return [entry, row?.[3] ?? 2] as const;
        }),
      );
    } catch (error) {
      this.#deliveries.fail(wrapRedisError(error, this.#server, `XAUTOCLAIM on stream ${this.#stream}`));
    } finally {
      this.#claiming = undefined;
      this.#deliveries.wake();
    }
  }

  /** Buffers the entries as deliveries; once closed, hands them back at once instead. */
  #take(entries: ReadonlyArray<readonly [RawEntry, number]>): void {
    if (this.#deliveries.closed) {
      if (entries.length > 0) void this.#handBack(entries.map(([[rawId]]) => rawId.toString()), 0).catch(() => {});
      return;
    }
    for (const [[rawId, fields], attempt] of entries) {
      const entryId = rawId.toString();
      this.#deliveries.push({
        message: decodeEntry(fields ?? [], { source: this.#source, stream: this.#stream, entryId }),
        ackId: new RedisAckId(this, entryId),
        deliveryAttempt: attempt,
        sequence: entrySequence(entryId),
      });
    }
  }

  /** Connection loss and timeouts are worth another receive; a missing group or stream (NotFoundError) is not. */
  isRetryable(error: unknown): boolean {
    return isRetryableRedisError(error);
  }

  #own(ackIds: readonly unknown[]): string[] {
    const ids: string[] = [];
    for (const id of ackIds) if (id instanceof RedisAckId && id.owner === this) ids.push(id.entryId);
    return ids;
  }

  async sendAcks(ackIds: readonly unknown[]): Promise<void> {
    const ids = this.#own(ackIds);
    if (ids.length === 0) return;
    try {
      await this.#client.xack(this.#stream, this.#group, ...ids);
    } catch (error) {
      throw wrapRedisError(error, this.#server, `XACK on stream ${this.#stream}`);
    }
  }

  async sendNacks(ackIds: readonly unknown[], delayMs: number): Promise<void> {
    const ids = this.#own(ackIds);
    if (ids.length === 0) return;
    await this.#handBack(ids, delayMs);
    this.#nextClaimAt = Math.min(this.#nextClaimAt, Date.now() + delayMs);
    this.#deliveries.wake();
  }

  /**
   * Makes pending entries claimable after `delayMs`: XCLAIM to this consumer (JUSTID: the delivery count stays)
   * with an idle time of ack deadline − delay. Entries already acked are not pending, so nothing happens to them.
   */
  async #handBack(ids: readonly string[], delayMs: number): Promise<void> {
    const idle = Math.max(0, this.#ackDeadlineMs - delayMs);
    try {
      await this.#client.xclaim(this.#stream, this.#group, this.#consumer, 0, ...ids, "IDLE", idle, "JUSTID");
    } catch (error) {
      throw wrapRedisError(error, this.#server, `XCLAIM on stream ${this.#stream}`);
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const held = this.#deliveries.close().map((d) => (d.ackId as RedisAckId).entryId);
    if (held.length > 0) await this.#handBack(held, 0).catch(() => {});
    this.#reader.disconnect();
    await Promise.all([this.#reading, this.#claiming]);
    this.#privateGroup?.stop();
    try {
      if (this.#privateGroup !== undefined) {
        await destroyPrivateGroup(this.#client, this.#stream, this.#group);
      } else {
        // A consumer with nothing pending is forgotten; one with pending entries stays until another claims them.
        const pending = (await this.#client.xpending(this.#stream, this.#group, "-", "+", 1, this.#consumer)) as unknown[];
        if (pending.length === 0) await this.#client.xgroup("DELCONSUMER", this.#stream, this.#group, this.#consumer);
      }
    } catch {
      // Disconnected: a private group stays behind until its lease expires, then the next opening removes it.
    }
    await this.#lease.release();
  }
}

/** The last-delivered id a new group starts after, from startAt or the deliver policy. */
function startId(options: DriverSubscriptionOptions, deliverAll: boolean): string {
  const startAt = options.startAt;
  if (startAt instanceof Date) return startAt.getTime() > 0 ? `${startAt.getTime() - 1}-18446744073709551615` : "0";
  if (typeof startAt === "number") return startAt > 0 ? sequenceEntryId(BigInt(startAt) - 1n) : "0";
  return deliverAll ? "0" : "$";
}

/**
 * Opens a subscription: the group is created (with the stream, if missing) unless it exists; `startAt` moves
 * an existing group's position there (XGROUP SETID) to replay. Named groups start from the stream's first entry
 * (`deliver=new`: from now), private ones from now (`deliver=all`: from the first entry). Opening also removes
 * the stream's orphaned private groups (private-groups.ts).
 */
export async function openRedisSubscription(url: RedisUrl, options: DriverSubscriptionOptions): Promise<DriverSubscription> {
  const isPrivate = options.name === undefined;
  if (options.name?.startsWith(PRIVATE_GROUP_PREFIX)) {
    throw new InvalidOptionsError(`a subscription name must not start with "${PRIVATE_GROUP_PREFIX}" (private subscriptions' groups are named so)`);
  }
  const group = options.name ?? privateGroupName();
  const start = startId(options, url.deliver === undefined ? !isPrivate : url.deliver === "all");
  const lease = await acquireRedis(url.address);
  let reader: Redis | undefined;
  try {
    const client = lease.connection.client;
    const server = lease.connection.address.url;
    if (isPrivate) {
      await createPrivateGroup(client, url.stream, group, start, url.privateLeaseMs).catch((error: unknown) => {
        throw wrapRedisError(error, server, `creating consumer group ${group} on stream ${url.stream}`);
      });
    } else {
      await openNamedGroup(client, server, url.stream, group, start, options.startAt !== undefined);
    }
    // Best effort: a server that refuses XINFO (an ACL) keeps its orphans, which cost memory, not correctness.
    await destroyOrphanGroups(client, url.stream, server).catch(() => {});
    reader = await lease.connection.blocking();
    return new RedisSubscription(lease, reader, url, group, isPrivate, options.ackDeadlineMs);
  } catch (error) {
    reader?.disconnect();
    await lease.release();
    throw error;
  }
}

/** Creates a named group (with the stream, if missing) unless it exists; `replay` moves an existing one to `start`. */
async function openNamedGroup(client: Redis, server: string, stream: string, group: string, start: string, replay: boolean): Promise<void> {
  try {
    await client.xgroup("CREATE", stream, group, start, "MKSTREAM");
  } catch (error) {
    if (!/^BUSYGROUP\b/.test((error as Error)?.message ?? "")) {
      throw wrapRedisError(error, server, `creating consumer group ${group} on stream ${stream}`);
    }
    if (replay) {
      await client.xgroup("SETID", stream, group, start).catch((e: unknown) => {
        throw wrapRedisError(e, server, `moving consumer group ${group} on stream ${stream}`);
      });
    }
  }
}
