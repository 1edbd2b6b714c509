import { describe, expect, it } from "vitest";
import { createMessage } from "@whisper/core";
import { messageRow } from "@/server/history/rows";
import { insertBatch } from "@/server/history/writer";
import { recordActivity, stepFor, topicActivity } from "@/server/history/activity";
import { ActivitySampler } from "@/server/runtime/activity-sampler";
import { activitySeries } from "@/server/services/activity";
import { upsertTopic } from "@/server/services/topics";
import { NotFoundError } from "@/server/services/errors";
import { historyDatabase } from "../support/postgres";

// The per-minute activity behind the topic charts: recorded (by the recorder), published / failed and the lag
// (by each replica's sampler), read back in equal steps with every step present.

const database = historyDatabase("uihist_activity");
const T0 = new Date("2026-06-01T10:00:00.000Z");
const minute = (n: number, second = 0) => new Date(T0.getTime() + n * 60_000 + second * 1000);

describe("topic activity", () => {
  it("adds publishes per minute, keeps the largest lag, and reads every step with the recorder's counts", async () => {
    const { pool } = database;
    const client = await pool.connect();
    try {
      const rows = [0, 0, 1, 3].map((m, i) => messageRow(createMessage({ type: "t", data: { i } }), "charts", minute(m, 10 + i)));
      await insertBatch(client, rows, "copy");
    } finally {
      client.release();
    }
    await recordActivity(pool, [{ topic: "charts", published: 2, failed: 1, behindMessages: 40, behindSeconds: 3 }], minute(0, 5));
    await recordActivity(pool, [{ topic: "charts", published: 3, failed: 0, behindMessages: 10, behindSeconds: 9 }], minute(0, 50));
    // Another replica samples the same minute: counts add up.
    await recordActivity(pool, [{ topic: "charts", published: 1, failed: 2, behindMessages: 0, behindSeconds: 0 }], minute(3, 1));

    const perMinute = await topicActivity(pool, "charts", minute(0), minute(5), 60);
    expect(perMinute.map((p) => [p.at.toISOString(), p.recorded, p.published, p.failed, p.behindMessages, p.behindSeconds])).toEqual([
      [minute(0).toISOString(), 2, 5, 1, 40, 9],
      [minute(1).toISOString(), 1, 0, 0, 0, 0],
      [minute(2).toISOString(), 0, 0, 0, 0, 0],
      [minute(3).toISOString(), 1, 1, 2, 0, 0],
      [minute(4).toISOString(), 0, 0, 0, 0, 0],
    ]);
    const perTwo = await topicActivity(pool, "charts", minute(0), minute(4), 120);
    expect(perTwo.map((p) => [p.recorded, p.published, p.failed, p.behindMessages])).toEqual([
      [3, 5, 1, 40],
      [1, 1, 2, 0],
    ]);
  });

  it("chooses whole-minute steps of at most 180 points", () => {
    expect(stepFor(15 * 60_000)).toBe(60);
    expect(stepFor(24 * 3_600_000)).toBe(480);
    expect(stepFor(24 * 3_600_000 + 7)).toBe(480);
    expect(stepFor(31 * 24 * 3_600_000) / 60).toBe(248);
  });

  it("samples the deltas of the publish counters and carries a failed write into the next sample", async () => {
    const { pool } = database;
    const totals = new Map([["sampled", { published: 5, failed: 1 }]]);
    let lag = 7;
    let down = false;
    const flaky = { query: (...args: Parameters<typeof pool.query>) => (down ? Promise.reject(new Error("database down")) : pool.query(...args)) };
    const sampler = new ActivitySampler({
      pool: flaky as unknown as typeof pool,
      topics: () => ["sampled"],
      publishTotals: () => new Map([...totals].map(([k, v]) => [k, { ...v }])),
      lag: () => ({ topic: "sampled", state: "ok", behindMessages: lag, behindSeconds: 1, recorded: 0, redelivered: 0, lastError: null, lastErrorAt: null, reason: null }),
    });
    await sampler.sample(minute(10));
    totals.set("sampled", { published: 9, failed: 1 });
    lag = 3;
    down = true;
    await expect(sampler.sample(minute(10, 30))).rejects.toThrow("database down");
    down = false;
    totals.set("sampled", { published: 12, failed: 4 });
    await sampler.sample(minute(10, 50));
    const [point] = await topicActivity(pool, "sampled", minute(10), minute(11), 60);
    expect([point!.published, point!.failed, point!.behindMessages]).toEqual([12, 4, 7]);
  });

  it("answers the series of a managed topic over a range, and NotFoundError for an unknown one", async () => {
    await upsertTopic({ name: "charts", url: "eventbus:charts", ordering: false });
    const series = await activitySeries("charts", minute(0), minute(6));
    expect(series).toMatchObject({ topic: "charts", stepSeconds: 60, from: minute(0).toISOString(), to: minute(6).toISOString() });
    expect(series.points).toHaveLength(6);
    expect(series.points.reduce((n, p) => n + p.recorded, 0)).toBe(4);
    await expect(activitySeries("never-created", minute(0), minute(6))).rejects.toBeInstanceOf(NotFoundError);
  });
});
