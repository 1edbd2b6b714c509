import { z } from "zod";
import { newId, type Message } from "@whisper/core";
import { db } from "@/server/db";
import { storedMessage } from "@/server/history/rows";
import { audit } from "./audit";
import { NotFoundError, parseInput } from "./errors";
import { topicNameSchema } from "./topics";

const replaySchema = z.strictObject({
  id: z.string().min(1).max(1000),
  topic: z.preprocess((v) => (v === "" || v === null ? undefined : v), topicNameSchema.optional()),
  keepId: z.boolean().optional(),
  actor: z.string().min(1).max(200),
});

/** Publishes a message through the core (injected by the runtime); resolves to the id once published. */
export type PublishFn = (topic: string, message: Message) => Promise<string>;

/**
 * Publishes recorded message `id` again, to its own topic or `opts.topic` (which must be a managed topic).
 * The copy has every attribute and the exact data of the original, a new id (or the same with keepId), and
 * the extension `replayof` = the original id. Audited as `message.replay` (or `message.replay.failed`, then
 * the publish error is rethrown).
 * Throws InvalidInputError, NotFoundError (message or target topic unknown), or the publish error.
 * With keepId, the copy has the original's id, so the recorder (idempotent on id) records no new row.
 */
export async function replayMessage(
  id: string,
  opts: { topic?: string; keepId?: boolean; actor: string },
  publish: PublishFn,
): Promise<{ id: string; topic: string; replayOf: string }> {
  const input = parseInput(replaySchema, { id, ...opts }, "replay request");
  const { prisma } = db();
  const original = await prisma.message.findUnique({ where: { id: input.id } });
  if (!original) throw new NotFoundError("message", input.id);
  const topic = input.topic ?? original.topic;
  const target = await prisma.topic.findUnique({ where: { name: topic }, select: { name: true } });
  if (!target) throw new NotFoundError("topic", topic);

  const copyId = input.keepId ? original.id : newId();
  const extensions = (original.extensions ?? {}) as Record<string, unknown>;
  const copy = storedMessage(
    {
      ...extensions,
      replayof: original.id,
      specversion: original.specversion,
      id: copyId,
      source: original.source,
      type: original.type,
      time: original.time,
      subject: original.subject,
      datacontenttype: original.datacontenttype,
      dataschema: original.dataschema,
    },
    original.data,
    original.dataText,
  );
  const details = { topic, fromTopic: original.topic, id: copyId, keepId: input.keepId ?? false };
  let published: string;
  try {
    published = await publish(topic, copy);
  } catch (error) {
    await audit(input.actor, "message.replay.failed", original.id, {
      ...details,
      error: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
  await audit(input.actor, "message.replay", original.id, details);
  return { id: published, topic, replayOf: original.id };
}
