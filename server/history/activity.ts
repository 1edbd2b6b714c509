import type pg from "pg";

/**
 * Per-minute activity of each topic (topic_minutes), for the topic charts: `count` (recorded; the recorder adds
 * it in the same transaction as the rows), `published` / `failed` (publishes through this dashboard's core) and
 * `behind_messages` / `behind_seconds` (the recorder's lag). Every replica adds its own publishes (so the figures
 * are sums over replicas) and raises the lag to its largest sample of the minute.
 */

export interface ActivitySample {
  topic: string;
  /** Publishes that succeeded / failed since the previous sample of this replica. */
  published: number;
  failed: number;
  behindMessages: number;
  behindSeconds: number;
}

export interface ActivityPoint {
  at: Date;
  recorded: number;
  published: number;
  failed: number;
  behindMessages: number;
  behindSeconds: number;
}

/** Adds one sample per topic to the minute of `now` (one statement; topics sorted, so writers never deadlock). */
export async function recordActivity(pool: pg.Pool, samples: readonly ActivitySample[], now = new Date()): Promise<void> {
  if (samples.length === 0) return;
  const sorted = [...samples].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  const minute = new Date(now.getTime() - (now.getTime() % 60_000));
  await pool.query(
    `INSERT INTO topic_minutes (topic, minute, count, published, failed, behind_messages, behind_seconds)
     SELECT t, $1, 0, p, f, bm, bs FROM unnest($2::text[], $3::int[], $4::int[], $5::int[], $6::int[]) AS u(t, p, f, bm, bs)
     ON CONFLICT (topic, minute) DO UPDATE SET
       published = topic_minutes.published + EXCLUDED.published,
       failed = topic_minutes.failed + EXCLUDED.failed,
       behind_messages = GREATEST(topic_minutes.behind_messages, EXCLUDED.behind_messages),
       behind_seconds = GREATEST(topic_minutes.behind_seconds, EXCLUDED.behind_seconds)`,
    [
      minute,
      sorted.map((s) => s.topic),
      sorted.map((s) => clampInt(s.published)),
      sorted.map((s) => clampInt(s.failed)),
      sorted.map((s) => clampInt(s.behindMessages)),
      sorted.map((s) => clampInt(s.behindSeconds)),
    ],
  );
}

function clampInt(n: number): number {
  return Math.max(0, Math.min(2_147_483_647, Math.round(n)));
}

/**
 * The activity of `topic` from `from` to `to` in steps of `stepSeconds` (a multiple of 60), oldest first, every
 * step present (zeros where nothing happened): counts summed per step, lag the largest of the step.
 */
export async function topicActivity(pool: pg.Pool, topic: string, from: Date, to: Date, stepSeconds: number): Promise<ActivityPoint[]> {
  const stepMs = stepSeconds * 1000;
  const start = from.getTime() - (from.getTime() % stepMs);
  const { rows } = await pool.query<{ bucket: string; recorded: string; published: string; failed: string; bm: number; bs: number }>(
    `SELECT floor((extract(epoch FROM minute) * 1000 - $4) / $5)::int AS bucket,
            sum(count) AS recorded, sum(published) AS published, sum(failed) AS failed,
            max(behind_messages) AS bm, max(behind_seconds) AS bs
       FROM topic_minutes WHERE topic = $1 AND minute >= $2 AND minute < $3
      GROUP BY 1`,
    [topic, new Date(start), to, start, stepMs],
  );
  const byBucket = new Map(rows.map((r) => [Number(r.bucket), r]));
  const points: ActivityPoint[] = [];
  for (let at = start, i = 0; at < to.getTime(); at += stepMs, i++) {
    const r = byBucket.get(i);
    points.push({
      at: new Date(at),
      recorded: Number(r?.recorded ?? 0),
      published: Number(r?.published ?? 0),
      failed: Number(r?.failed ?? 0),
      behindMessages: r?.bm ?? 0,
      behindSeconds: r?.bs ?? 0,
    });
  }
  return points;
}

/** The step for a range: whole minutes, at most `maxPoints` points (the charts draw about 180). */
export function stepFor(rangeMs: number, maxPoints = 180): number {
  // Whole minutes of the range first: "24 h" asked a few ms late is still 1,440 minutes (8-minute steps, not 9).
  return Math.max(1, Math.ceil(Math.round(rangeMs / 60_000) / maxPoints)) * 60;
}
