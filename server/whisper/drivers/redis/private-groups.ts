import type { Redis } from "ioredis";
import { newId } from "../../message.js";
import { wrapRedisError } from "./connection.js";

/**
 * Private (unnamed) subscriptions' consumer groups and their leases. Redis never deletes a consumer group by
 * itself, so a process that dies with a private subscription open would leave its group (and the group's
 * pending entries) on the stream for good. The rule:
 * - a private group is named `whisper-private-<id>` and created together with its lease, the key
 *   `whisper:lease:{<stream>}:<group>` expiring after `leaseMs`, in one MULTI (no moment without a lease);
 * - its subscription renews the lease every `leaseMs / 3` while open, and deletes group and lease on close;
 * - a private group whose lease is gone (its process died, or was cut off from Redis for longer than `leaseMs`)
 *   is an orphan: every subscription opening on the stream destroys the stream's orphans first.
 * Leases are plain keys with a TTL, so the rule needs no clock agreement between processes and each owner
 * picks its own `leaseMs`; the `{<stream>}` hash tag keeps a lease in its stream's cluster slot.
 */
export const PRIVATE_GROUP_PREFIX = "whisper-private-";

export function privateGroupName(): string {
  return `${PRIVATE_GROUP_PREFIX}${newId()}`;
}

export function leaseKey(stream: string, group: string): string {
  return `whisper:lease:{${stream}}:${group}`;
}

/** Creates the group at `start` (and the stream, if missing) with its lease, atomically. */
export async function createPrivateGroup(client: Redis, stream: string, group: string, start: string, leaseMs: number): Promise<void> {
  const results = await client
    .multi()
    .xgroup("CREATE", stream, group, start, "MKSTREAM")
    .set(leaseKey(stream, group), "1", "PX", leaseMs)
    .exec();
  const failed = results?.find(([error]) => error !== null)?.[0];
  if (results === null || failed) throw failed ?? new Error("MULTI aborted");
}

/** Renews the lease of a private group every `leaseMs / 3` until stop() (which deletes nothing). */
export class LeaseRenewal {
  readonly #timer: NodeJS.Timeout;

  constructor(client: Redis, stream: string, group: string, leaseMs: number) {
    const key = leaseKey(stream, group);
    // A failed renewal (disconnected) is retried by the next tick; a lease lost meanwhile means the group is gone.
    this.#timer = setInterval(() => void client.set(key, "1", "PX", leaseMs).catch(() => {}), Math.max(1, Math.floor(leaseMs / 3)));
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** Destroys a private group and its lease (on close). */
export async function destroyPrivateGroup(client: Redis, stream: string, group: string): Promise<void> {
  await client.multi().xgroup("DESTROY", stream, group).del(leaseKey(stream, group)).exec();
}

/**
 * Destroys the stream's private groups whose lease is gone; returns their names. Best effort: an error (no
 * permission for XINFO, a lost connection) is thrown for the caller to ignore or report.
 */
export async function destroyOrphanGroups(client: Redis, stream: string, server: string): Promise<string[]> {
  try {
    const groups = (await client.xinfo("GROUPS", stream)) as unknown[][];
    const names = groups
      .map((fields) => String(fields[fields.indexOf("name") + 1]))
      .filter((name) => name.startsWith(PRIVATE_GROUP_PREFIX));
    if (names.length === 0) return [];
    const leases = await Promise.all(names.map((name) => client.exists(leaseKey(stream, name))));
    const orphans: string[] = [];
    for (const [i, name] of names.entries()) {
      if (leases[i] === 0 && (await client.xgroup("DESTROY", stream, name)) === 1) orphans.push(name);
    }
    return orphans;
  } catch (error) {
    throw wrapRedisError(error, server, `removing orphaned private groups of stream ${stream}`);
  }
}
