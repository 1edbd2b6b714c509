import { createHash, randomBytes } from "node:crypto";
import { db } from "@/server/db";

/**
 * Login sessions in PostgreSQL (table `sessions`), so every replica sees a login and a logout at once.
 * Contract:
 * - openSession() makes a random 256-bit id, stores only its SHA-256 and returns the id (the cookie value);
 * - findSession() returns the row for a cookie value, or null; it does not judge expiry (the caller does,
 *   with the configured limits, and deletes what it refuses);
 * - endSession() deletes the row (logout, expiry, a rotated token): a deleted session never comes back;
 * - pruneSessions() deletes the expired rows and those opened with tokens that are no longer configured.
 */

export type SessionRole = "admin" | "viewer";

export interface SessionRow {
  idHash: string;
  role: SessionRole;
  tokenHash: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  client: string;
}

/** The stored form of a session id. */
export function sessionIdHash(id: string): string {
  return createHash("sha256").update(id).digest("hex");
}

export async function openSession(input: {
  role: SessionRole;
  tokenHash: string;
  client: string;
  now: Date;
  absoluteMs: number;
}): Promise<{ id: string; row: SessionRow }> {
  const id = randomBytes(32).toString("base64url");
  const row = await db().prisma.session.create({
    data: {
      idHash: sessionIdHash(id),
      role: input.role,
      tokenHash: input.tokenHash,
      createdAt: input.now,
      lastSeenAt: input.now,
      expiresAt: new Date(input.now.getTime() + input.absoluteMs),
      client: input.client.slice(0, 200),
    },
  });
  return { id, row };
}

export async function findSession(id: string): Promise<SessionRow | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
  return db().prisma.session.findUnique({ where: { idHash: sessionIdHash(id) } });
}

/** Records use of the session (idle expiry counts from the last one). */
export async function touchSession(idHash: string, now: Date): Promise<void> {
  await db().prisma.session.updateMany({ where: { idHash }, data: { lastSeenAt: now } });
}

export async function endSession(idHash: string): Promise<void> {
  await db().prisma.session.deleteMany({ where: { idHash } });
}

/** Deletes sessions past their absolute or idle expiry, and those whose token hash is not in `tokenHashes`. */
export async function pruneSessions(now: Date, idleMs: number, tokenHashes: readonly string[]): Promise<number> {
  const { count } = await db().prisma.session.deleteMany({
    where: {
      OR: [
        { expiresAt: { lte: now } },
        { lastSeenAt: { lte: new Date(now.getTime() - idleMs) } },
        { tokenHash: { notIn: [...tokenHashes] } },
      ],
    },
  });
  return count;
}
