import { z } from "zod";
import { newId, type Message, type PauseEvent } from "@whisper/core";
import { db } from "@/server/db";
import type { Prisma } from "@/server/generated/prisma/client";
import { splitBody, storedMessage } from "@/server/history/rows";
import { audit } from "./audit";
import { ConflictError, NotFoundError, parseInput } from "./errors";
import { topicNameSchema } from "./topics";
import type { ResendResult, StalledEntry } from "./types";

/** Resumes an ordering key in the core (injected by the runtime: `topic.resume(key)`). */
export type ResumeFn = (topic: string, orderingKey: string) => void;

const OPEN = ["stalled", "failed"] as const;
const actorSchema = z.string().min(1).max(200);
const stallIdSchema = z.string().min(1).max(100);
const keySchema = z.string().min(1).max(500);

type Tx = Prisma.TransactionClient;

/**
 * In-process serialisation per (topic, key): calls run in the order they were made (their first await
 * happens inside the chain), so a pause recorded by the topic's listener is stored before the rejections
 * that follow it. Across processes a transaction-scoped advisory lock does the same job.
 */
const chains = new Map<string, Promise<unknown>>();
function serialised<T>(topic: string, key: string, work: () => Promise<T>): Promise<T> {
  const name = `${topic}\u0000${key}`;
  const previous = chains.get(name) ?? Promise.resolve();
  const run = previous.then(work, work);
  const settled = run.catch(() => {});
  chains.set(name, settled);
  void settled.then(() => {
    if (chains.get(name) === settled) chains.delete(name);
  });
  return run;
}

async function lockKey(tx: Tx, topic: string, key: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${topic}), hashtext(${key}))`;
}

/**
 * Appends `messages` to the open stall of (topic, key), creating it with `error` if there is none. Messages
 * already in the entry (same id) are skipped, so reporting a message twice is harmless.
 */
async function appendMessages(topic: string, key: string, messages: readonly Message[], error: unknown): Promise<void> {
  const { prisma } = db();
  await prisma.$transaction(async (tx) => {
    await lockKey(tx, topic, key);
    let stall = await tx.stall.findFirst({
      where: { topic, orderingKey: key, status: { in: [...OPEN] } },
      orderBy: { createdAt: "desc" },
      select: { id: true },
    });
    stall ??= await tx.stall.create({
      data: { id: newId(), topic, orderingKey: key, error: describeError(error) },
      select: { id: true },
    });
    const last = await tx.stalledMessage.aggregate({ where: { stallId: stall.id }, _max: { seq: true } });
    let seq = last._max.seq ?? 0;
    await tx.stalledMessage.createMany({
      data: messages.map((m) => {
        const { data, dataText } = splitBody(m.body);
        return {
          stallId: stall.id,
          seq: ++seq,
          messageId: m.id,
          type: m.type,
          attributes: m.attributes() as Prisma.InputJsonObject,
          data: data === null ? null : new Uint8Array(data),
          dataText,
        };
      }),
      skipDuplicates: true,
    });
    await tx.stall.update({ where: { id: stall.id }, data: { updatedAt: new Date() } });
  });
}

/**
 * Stores a pause reported by the core (topic.onPause): the failed message(s) and every message rejected
 * behind them, in order, with the error. Appends to the key's open entry if one exists (e.g. a resume that
 * failed again). Durable once resolved.
 */
export function recordStall(topic: string, event: PauseEvent): Promise<void> {
  const name = parseInput(topicNameSchema, topic, "topic name");
  const key = parseInput(keySchema, event?.orderingKey, "ordering key");
  return serialised(name, key, () => appendMessages(name, key, event.messages, event.error));
}

/**
 * Stores a publish rejected because its key was paused (OrderingKeyPausedError), at the end of the key's
 * open entry. Idempotent by message id, so the runtime may call it for every such rejection, including the
 * messages recordStall already stored.
 */
export function appendToStall(topic: string, orderingKey: string, message: Message, error: unknown): Promise<void> {
  const name = parseInput(topicNameSchema, topic, "topic name");
  const key = parseInput(keySchema, orderingKey, "ordering key");
  return serialised(name, key, () => appendMessages(name, key, [message], error));
}

/** The (topic, ordering key) pairs with an open entry, with the error that stalled each: keys to keep paused. */
export async function openStalledKeys(): Promise<Array<{ topic: string; orderingKey: string; error: string }>> {
  const rows = await db().prisma.stall.findMany({
    where: { status: { in: [...OPEN] } },
    distinct: ["topic", "orderingKey"],
    orderBy: [{ topic: "asc" }, { orderingKey: "asc" }, { createdAt: "asc" }],
    select: { topic: true, orderingKey: true, error: true },
  });
  return rows;
}

/** Stores several rejected messages of one key at the end of its open entry, in order (idempotent by id). */
export function appendMessagesToStall(topic: string, orderingKey: string, messages: readonly Message[], error: unknown): Promise<void> {
  const name = parseInput(topicNameSchema, topic, "topic name");
  const key = parseInput(keySchema, orderingKey, "ordering key");
  return serialised(name, key, () => appendMessages(name, key, messages, error));
}

/** Marks a waiting message of the key's open entry as published (it went out after all); no-op otherwise. */
export async function markStalledPublished(topic: string, orderingKey: string, messageId: string): Promise<void> {
  await db().prisma.stalledMessage.updateMany({
    where: { messageId, status: "stalled", stall: { topic, orderingKey, status: { in: [...OPEN] } } },
    data: { status: "published", error: null },
  });
}

const listSchema = z.strictObject({
  topic: topicNameSchema.optional(),
  /** "open" (default): entries still waiting (stalled, or failed on a resume); "all": resolved ones too. */
  status: z.enum(["open", "all"]).optional(),
});

/** The fields every view of a stall entry shares (StalledEntryFields in the contract). */
export function stallFields(s: { id: string; topic: string; orderingKey: string; error: string; status: StalledEntry["status"]; createdAt: Date; updatedAt: Date }) {
  return {
    id: s.id,
    topic: s.topic,
    orderingKey: s.orderingKey,
    error: s.error,
    status: s.status,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

/** Stall entries, newest first, each with its messages in original order. */
export async function listStalled(topic?: string, options: { status?: "open" | "all" } = {}): Promise<StalledEntry[]> {
  const f = parseInput(listSchema, { topic: topic === "" ? undefined : topic, ...options }, "stall filter");
  const where: Prisma.StallWhereInput = {};
  if (f.topic !== undefined) where.topic = f.topic;
  if ((f.status ?? "open") === "open") where.status = { in: [...OPEN] };
  const stalls = await db().prisma.stall.findMany({
    where,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: 500,
    include: {
      messages: { orderBy: { seq: "asc" }, select: { seq: true, messageId: true, type: true, status: true, error: true } },
    },
  });
  return stalls.map((s) => ({
    ...stallFields(s),
    messages: s.messages.map((m) => ({ seq: m.seq, id: m.messageId, type: m.type, status: m.status, error: m.error })),
  }));
}

/**
 * Resends messages on an ordering key through the core, unpausing it first (injected by the runtime:
 * `topic.resumeWith(key, messages)`): the messages go out in this order before anything published after the
 * call. Returns one promise per message, in order.
 */
export type ResendFn = (topic: string, orderingKey: string, messages: Message[]) => Promise<Array<Promise<string>>>;

export interface ResumeHooks {
  resend: ResendFn;
  /** Called once every message of the entry went out: the key may flow everywhere (other replicas unpause). */
  resumed?(topic: string, orderingKey: string): void;
}

/**
 * Resumes the stalled key: resends the entry's waiting messages in their original order through `resend`
 * (nothing published meanwhile can overtake them) and marks each published or failed. At the first failure
 * the rest stay stalled, the entry becomes "failed" (resume it again later) and the key is paused again by the
 * core. Messages appended to the entry while the resend ran (another replica still had the key paused) are
 * resent in a further round; the entry becomes "resumed" only when none is left, atomically with respect to
 * appends, and then `resumed` is called. Audited as `stall.resume`. Throws NotFoundError, ConflictError (entry
 * not open, or a resume of it is running in any process), or what resend throws (nothing is changed then).
 */
export async function resumeStalled(id: string, actor: string, hooks: ResumeHooks): Promise<{ results: ResendResult[] }> {
  const stallId = parseInput(stallIdSchema, id, "stall id");
  const who = parseInput(actorSchema, actor, "actor");
  const { prisma, pool } = db();
  const head = await prisma.stall.findUnique({ where: { id: stallId }, select: { topic: true, orderingKey: true } });
  if (!head) throw new NotFoundError("stall", stallId);

  // One resume per entry across processes: a session advisory lock held on a dedicated connection.
  const lockConnection = await pool.connect();
  let locked = false;
  try {
    const { rows } = await lockConnection.query<{ ok: boolean }>(
      "SELECT pg_try_advisory_lock(hashtext('whisper.stall'), hashtext($1)) AS ok",
      [stallId],
    );
    locked = rows[0]?.ok === true;
    if (!locked) throw new ConflictError(`stall ${stallId} is being resumed`);

    const status = await prisma.stall.findUnique({ where: { id: stallId }, select: { status: true } });
    if (!status) throw new NotFoundError("stall", stallId);
    if (!(OPEN as readonly string[]).includes(status.status)) throw new ConflictError(`stall ${stallId} is already ${status.status}`);

    const results: ResendResult[] = [];
    let failed: ResendResult | undefined;
    let remaining = 0;
    for (;;) {
      const waiting = await prisma.stalledMessage.findMany({
        where: { stallId, status: { in: [...OPEN] } },
        orderBy: { seq: "asc" },
      });
      if (waiting.length > 0) {
        const sends = await hooks.resend(
          head.topic,
          head.orderingKey,
          waiting.map((m) => storedMessage(m.attributes as Record<string, unknown>, m.data, m.dataText)),
        );
        const outcomes = await Promise.allSettled(sends);
        const round: ResendResult[] = [];
        for (const [i, m] of waiting.entries()) {
          const outcome = outcomes[i]!;
          if (outcome.status === "fulfilled") {
            round.push({ seq: m.seq, id: m.messageId, status: "published" });
          } else if (!failed) {
            failed = { seq: m.seq, id: m.messageId, status: "failed", error: describeError(outcome.reason) };
            round.push(failed);
          } else remaining++;
        }
        results.push(...round);
        await markResent(stallId, round);
        if (failed) break;
      }
      // Closed only when nothing is waiting, under the key's lock that appends take too.
      if (await closeIfDrained(head.topic, head.orderingKey, stallId)) break;
    }
    if (failed) await prisma.stall.update({ where: { id: stallId }, data: { status: "failed" } });
    await audit(who, "stall.resume", stallId, {
      topic: head.topic,
      orderingKey: head.orderingKey,
      published: results.length - (failed ? 1 : 0),
      failed: failed ? { id: failed.id, error: failed.error } : null,
      remaining,
    });
    if (!failed) hooks.resumed?.(head.topic, head.orderingKey);
    return { results };
  } finally {
    if (locked) {
      await lockConnection.query("SELECT pg_advisory_unlock(hashtext('whisper.stall'), hashtext($1))", [stallId]).catch(() => {});
    }
    lockConnection.release();
  }
}

/** Stores the outcome of resent messages (published, or failed with its error). */
async function markResent(stallId: string, outcomes: readonly ResendResult[]): Promise<void> {
  const { prisma } = db();
  const published = outcomes.filter((o) => o.status === "published").map((o) => o.seq);
  if (published.length > 0) {
    await prisma.stalledMessage.updateMany({ where: { stallId, seq: { in: published } }, data: { status: "published", error: null } });
  }
  for (const o of outcomes) {
    if (o.status === "failed") {
      await prisma.stalledMessage.update({ where: { stallId_seq: { stallId, seq: o.seq } }, data: { status: "failed", error: o.error ?? null } });
    }
  }
}

/** Marks the entry "resumed" if no message of it is waiting; false if some are (appended meanwhile). */
async function closeIfDrained(topic: string, key: string, stallId: string): Promise<boolean> {
  return db().prisma.$transaction(async (tx) => {
    await lockKey(tx, topic, key);
    const waiting = await tx.stalledMessage.count({ where: { stallId, status: { in: [...OPEN] } } });
    if (waiting > 0) return false;
    await tx.stall.update({ where: { id: stallId }, data: { status: "resumed" } });
    return true;
  });
}

/**
 * Drops the entry's waiting messages (marked "discarded", kept for the record) and closes the entry as
 * "discarded". Audited as `stall.discard`. The key stays paused in the core unless `resume` is given, in
 * which case it is called after the discard is stored. Throws NotFoundError, or ConflictError if the entry
 * is not open.
 */
export async function discardStalled(id: string, actor: string, resume?: ResumeFn): Promise<{ discarded: number }> {
  const stallId = parseInput(stallIdSchema, id, "stall id");
  const who = parseInput(actorSchema, actor, "actor");
  const { prisma } = db();
  const head = await prisma.stall.findUnique({ where: { id: stallId }, select: { topic: true, orderingKey: true } });
  if (!head) throw new NotFoundError("stall", stallId);
  return serialised(head.topic, head.orderingKey, async () => {
    const discarded = await prisma.$transaction(async (tx) => {
      await lockKey(tx, head.topic, head.orderingKey);
      const stall = await tx.stall.findUnique({ where: { id: stallId }, select: { status: true } });
      if (!stall) throw new NotFoundError("stall", stallId);
      if (!(OPEN as readonly string[]).includes(stall.status)) throw new ConflictError(`stall ${stallId} is already ${stall.status}`);
      const { count } = await tx.stalledMessage.updateMany({
        where: { stallId, status: { in: [...OPEN] } },
        data: { status: "discarded" },
      });
      await tx.stall.update({ where: { id: stallId }, data: { status: "discarded" } });
      return count;
    });
    await audit(who, "stall.discard", stallId, { topic: head.topic, orderingKey: head.orderingKey, discarded });
    resume?.(head.topic, head.orderingKey);
    return { discarded };
  });
}

/** "<code>: <message>" for coded errors, the message otherwise; follows one level of cause for context. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  let text = typeof code === "string" ? `${code}: ${error.message}` : error.message;
  const cause = error.cause;
  if (cause instanceof Error && !text.includes(cause.message)) text += ` (cause: ${cause.message})`;
  return text.slice(0, 2000);
}
