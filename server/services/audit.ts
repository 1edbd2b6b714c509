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

/** A prefix filter as a range (index-friendly, and no LIKE wildcards to escape). */
const prefix = (value: string) => ({ gte: value, lt: `${value}\uffff` });

const browseSchema = z.strictObject({
  actor: z.string().min(1).max(200).optional(),
  action: z.string().min(1).max(100).optional(),
  target: z.string().min(1).max(500).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  cursor: z.string().regex(/^[1-9]\d{0,18}$/, "is not a cursor returned by this API").optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

export type AuditFilter = z.input<typeof browseSchema>;

/**
 * One page of the audit log, newest first (by id, which grows with every entry). Filters: `actor` and
 * `action` match as prefixes ("admin" finds every admin actor, "stall." every stall action), `target`
 * exactly, `from` ≤ at < `to`. Keyset pagination: nextCursor is the last entry's id; the next page has the
 * entries with smaller ids, so new entries never shift later pages. Throws InvalidInputError.
 */
export async function browseAudit(filter: AuditFilter = {}): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
  const f = parseInput(browseSchema, filter, "audit filter");
  const limit = f.limit ?? 100;
  const rows = await db().prisma.auditLog.findMany({
    where: {
      ...(f.actor === undefined ? {} : { actor: prefix(f.actor) }),
      ...(f.action === undefined ? {} : { action: prefix(f.action) }),
      ...(f.target === undefined ? {} : { target: f.target }),
      ...(f.from === undefined && f.to === undefined
        ? {}
        : { at: { ...(f.from === undefined ? {} : { gte: new Date(f.from) }), ...(f.to === undefined ? {} : { lt: new Date(f.to) }) } }),
      ...(f.cursor === undefined ? {} : { id: { lt: BigInt(f.cursor) } }),
    },
    orderBy: { id: "desc" },
    take: limit + 1,
  });
  const page = rows.slice(0, limit);
  return {
    items: page.map((r) => ({
      id: r.id.toString(),
      at: r.at.toISOString(),
      actor: r.actor,
      action: r.action,
      target: r.target,
      details: r.details ?? null,
    })),
    nextCursor: rows.length > limit ? page[page.length - 1]!.id.toString() : null,
  };
}

/** The newest audit entries first, optionally only those about `target` (browseAudit without paging). */
export async function listAudit(filter: { target?: string; limit?: number } = {}): Promise<AuditEntry[]> {
  return (await browseAudit(filter)).items;
}
