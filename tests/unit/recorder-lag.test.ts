import { describe, expect, it } from "vitest";
import { describeLag, LagMonitor, type BrokerFigures } from "@/server/history/lag";
import { emptyStats, type RecorderTopicStats } from "@/server/history/topic-watch";

const T0 = Date.parse("2026-12-03T10:00:00Z");

function stats(over: Partial<RecorderTopicStats> = {}): RecorderTopicStats {
  return { ...emptyStats("demo.clicks", "eventbus:demo.clicks", new Date(T0)), ...over };
}

function sample(monitor: LagMonitor, at: number, s: RecorderTopicStats, broker?: BrokerFigures) {
  return monitor.update({ stats: [s], broker: new Map(broker ? [[s.topic, broker]] : []) }, at)[0]!;
}

describe("LagMonitor", () => {
  const thresholds = { seconds: 30, messages: 1000 };

  it("is ok and at 0 while the recorder keeps up", () => {
    const monitor = new LagMonitor(thresholds);
    for (let i = 0; i < 100; i++) {
      const r = sample(monitor, T0 + i * 2000, stats({ acked: i * 10, recorded: i * 10 }), { pending: 0, ackPending: 0, redelivered: 0 });
      expect(r).toMatchObject({ state: "ok", behindMessages: 0, behindSeconds: 0, reason: null });
    }
  });

  it("measures a stall from the last sample that saw progress, not from an idle past", () => {
    const monitor = new LagMonitor(thresholds);
    // Ten minutes idle after one message.
    for (let i = 0; i <= 300; i++) sample(monitor, T0 + i * 2000, stats({ acked: 1 }), { pending: 0, ackPending: 0, redelivered: 0 });
    const blockedAt = T0 + 300 * 2000;
    const held = stats({ acked: 1, held: 50, oldestHeldAt: new Date(blockedAt + 500).toISOString() });
    const first = sample(monitor, blockedAt + 2000, held, { pending: 0, ackPending: 50, redelivered: 0 });
    expect(first.behindMessages).toBe(50);
    expect(first.behindSeconds).toBeLessThanOrEqual(2);
    const later = sample(monitor, blockedAt + 40_000, held, { pending: 0, ackPending: 50, redelivered: 0 });
    expect(later.behindSeconds).toBeGreaterThanOrEqual(39);
    expect(later.behindSeconds).toBeLessThanOrEqual(40);
    expect(later.state).toBe("behind");
    expect(later.reason).toBe("recording of demo.clicks is 50 messages / 40 s behind");
  });

  it("counts what waits at the broker when the recorder takes nothing (a dead subscription)", () => {
    const monitor = new LagMonitor(thresholds);
    sample(monitor, T0, stats(), { pending: 0, ackPending: 0, redelivered: 0 });
    sample(monitor, T0 + 2000, stats(), { pending: 1505, ackPending: 0, redelivered: 4000 });
    const r = sample(monitor, T0 + 242_000, stats({ failing: "subscription: connection lost" }), { pending: 1505, ackPending: 0, redelivered: 4000 });
    expect(r).toMatchObject({ state: "failing", behindMessages: 1505, redelivered: 4000 });
    expect(r.reason).toBe("recording of demo.clicks is failing (1,505 messages / 4 min behind): subscription: connection lost");
  });

  it("estimates a growing backlog that still drains from the recent rate", () => {
    const monitor = new LagMonitor(thresholds);
    let acked = 0;
    let r;
    for (let i = 0; i < 20; i++) {
      acked += 1000; // 500/s recorded
      r = sample(monitor, T0 + i * 2000, stats({ acked, held: 100, oldestHeldAt: new Date(T0 + i * 2000 - 100).toISOString() }), {
        pending: 20_000,
        ackPending: 100,
        redelivered: 0,
      });
    }
    expect(r!.behindMessages).toBe(20_100);
    expect(r!.behindSeconds).toBeGreaterThan(30); // ~40 s at 500/s
    expect(r!.state).toBe("behind");
  });

  it("never estimates a backlog older than the last sample that saw none", () => {
    const monitor = new LagMonitor(thresholds);
    sample(monitor, T0, stats({ acked: 0 }), { pending: 0, ackPending: 0, redelivered: 0 });
    // One message recorded, then 50 blocked, all between two samples: the recent "rate" is one message.
    const r = sample(monitor, T0 + 2000, stats({ acked: 1, held: 50, oldestHeldAt: new Date(T0 + 1900).toISOString() }), {
      pending: 0,
      ackPending: 50,
      redelivered: 0,
    });
    expect(r.behindSeconds).toBeLessThanOrEqual(2);
  });

  it("forgets topics that are no longer recorded", () => {
    const monitor = new LagMonitor(thresholds);
    sample(monitor, T0, stats());
    expect(monitor.of("demo.clicks")).toBeDefined();
    monitor.update({ stats: [], broker: new Map() }, T0 + 2000);
    expect(monitor.of("demo.clicks")).toBeUndefined();
  });

  it("words the reason for a banner", () => {
    expect(describeLag("demo.clicks", "behind", 1505, 240, "insert: timeout")).toBe(
      "recording of demo.clicks is 1,505 messages / 4 min behind: insert: timeout",
    );
    expect(describeLag("t", "behind", 1, 5, null)).toBe("recording of t is 1 message / 5 s behind");
  });
});
