import { describe, expect, it } from "vitest";
import type { StalledKeySummary } from "@/components/api/types";
import { afterOutcome, describeOutcome, describeOutcomeFor, requestFailed, resumeOutcome } from "@/components/ordering/outcome";
import { completeMinutes } from "@/components/topics/sparkline";

// Pure pieces of the dashboard: what the ordering board says about a Resume/Discard, and which minutes a
// sparkline draws.

const entry: StalledKeySummary = {
  id: "s1",
  topic: "orders",
  orderingKey: "customer-7",
  error: "ERR_PUBLISH_FAILED: down",
  status: "stalled",
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
  messageCount: 733,
  waitingCount: 733,
  messages: [1, 2, 3, 4, 5].map((seq) => ({ seq, id: `m-${seq}`, type: "t", status: "stalled" as const, error: null })),
};

const published = (n: number) => Array.from({ length: n }, (_, i) => ({ seq: i + 1, id: `m-${i + 1}`, status: "published" as const }));

describe("the outcome of a Resume or Discard", () => {
  it("is one sentence for a key of 733, with the key and topic in the toast", () => {
    const outcome = resumeOutcome(published(733), 733);
    expect(describeOutcome(outcome)).toBe("Resumed: 733 of 733 messages published.");
    expect(describeOutcomeFor(entry, outcome)).toBe("Key customer-7 on orders: Resumed: 733 of 733 messages published.");
    expect(afterOutcome(entry, outcome)).toMatchObject({ status: "resumed", waitingCount: 0, messages: [] });
  });

  it("names where a resend stopped and how many still wait", () => {
    const results = [...published(2), { seq: 3, id: "m-3", status: "failed" as const, error: "ERR_PUBLISH_FAILED: down again" }];
    const outcome = resumeOutcome(results, 733);
    expect(outcome.ok).toBe(false);
    expect(describeOutcome(outcome)).toBe(
      "Resume stopped at #3 (m-3): ERR_PUBLISH_FAILED: down again. 2 of 733 messages published; the rest wait.",
    );
    const after = afterOutcome(entry, outcome);
    expect(after).toMatchObject({ status: "failed", waitingCount: 731 });
    expect(after.messages.map((m) => [m.seq, m.status])).toEqual([
      [3, "failed"],
      [4, "stalled"],
      [5, "stalled"],
    ]);
  });

  it("counts messages appended during the resend", () => {
    expect(describeOutcome(resumeOutcome(published(4), 3))).toBe("Resumed: 4 of 4 messages published.");
  });

  it("reports a discard and a refused request without changing the entry for the latter", () => {
    expect(describeOutcome({ action: "discard", ok: true, discarded: 1 })).toBe("Discarded 1 message.");
    const refused = requestFailed("resume", new Error("stall s1 is already resumed"));
    expect(describeOutcome(refused)).toBe("Resume failed: stall s1 is already resumed");
    expect(afterOutcome(entry, refused)).toBe(entry);
  });
});

describe("a sparkline", () => {
  it("draws the complete minutes, not the current one still counting", () => {
    expect(completeMinutes([3, 5, 8, 1])).toEqual([3, 5, 8]);
    expect(completeMinutes([4])).toEqual([]);
  });
});
