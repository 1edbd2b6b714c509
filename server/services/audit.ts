import { z } from "zod";
import { db } from "@/server/db";
import { parseInput } from "./errors";
import type { AuditEntry } from "./types";

const entrySchema = z.strictObject({
  actor: z.string().min(1).max(200),
  action: z.string().regex(/^[a-z][a-z0-9_.-]{0,99}$/, "dotted lower-case verb, e.g. message.replay"),
  target: z.string().min(1).max(500),
  details: z.record(z.string(), z.unknown()).optional(),
});

/**
 * Appends one entry to the audit log: `actor` did `action` (e.g. `message.replay`, `stall.resume`,
 * `stall.discard`, `topic.create`, `topic.delete`) to `target` (a message id, stall id or topic name).
 * `details` must be JSON-serialisable. Resolves once the row is committed.
 */
export async function audit(actor: string, action: string, target: string, details?: object): Promise<void> {
  const entry = parseInput(entrySchema, { actor, action, target, details }, "audit entry");
  await db().prisma.auditLog.create({
    data: {
      actor: entry.actor,
      action: entry.action,
      target: entry.target,
      // Round-trip through JSON: Dates become strings, undefined fields vanish, as the API would show them.
      ...(entry.details === undefined ? {} : { details: JSON.parse(JSON.stringify(entry.details)) }),
    },
  });
}

const listSchema = z.strictObject({
  target: z.string().min(1).max(500).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

/** The newest audit entries first, optionally only those about `target`. */
export async function listAudit(filter: { target?: string; limit?: number } = {}): Promise<AuditEntry[]> {
  const { target, limit = 100 } = parseInput(listSchema, filter, "audit filter");
  const rows = await db().prisma.auditLog.findMany({
    where: target === undefined ? {} : { target },
    orderBy: [{ at: "desc" }, { id: "desc" }],
    take: limit,
  });
  return rows.map((r) => ({
    id: r.id.toString(),
    at: r.at.toISOString(),
    actor: r.actor,
    action: r.action,
    target: r.target,
    details: r.details ?? null,
  }));
}
