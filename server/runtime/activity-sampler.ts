import type pg from "pg";
import { recordActivity, type ActivitySample } from "@/server/history/activity";
import type { TopicRecording } from "@/server/services/types";

/** How often a replica adds its publishes and lag to the per-minute activity (topic charts). */
export const ACTIVITY_SAMPLE_MS = 10_000;

/**
 * Feeds the topic charts (server/history/activity.ts): every ACTIVITY_SAMPLE_MS, the publishes through this
 * replica's core since the previous sample (from the Prometheus counters) and the recorder's current lag, per
 * managed topic, in one upsert. A sample that fails to write is not lost: the counters' deltas are carried into
 * the next one.
 */
export class ActivitySampler {
  readonly #written = new Map<string, { published: number; failed: number }>();

  constructor(
    private readonly options: {
      pool: pg.Pool;
      topics: () => string[];
      publishTotals: () => Map<string, { published: number; failed: number }>;
      lag: (topic: string) => TopicRecording | undefined;
    },
  ) {}

  async sample(now = new Date()): Promise<void> {
    const totals = this.options.publishTotals();
    const samples: ActivitySample[] = [];
    for (const topic of this.options.topics()) {
      const total = totals.get(topic) ?? { published: 0, failed: 0 };
      const before = this.#written.get(topic) ?? { published: 0, failed: 0 };
      const lag = this.options.lag(topic);
      samples.push({
        topic,
        published: total.published - before.published,
        failed: total.failed - before.failed,
        behindMessages: lag?.behindMessages ?? 0,
        behindSeconds: lag?.behindSeconds ?? 0,
      });
    }
    await recordActivity(this.options.pool, samples, now);
    for (const topic of this.options.topics()) this.#written.set(topic, totals.get(topic) ?? { published: 0, failed: 0 });
  }
}
