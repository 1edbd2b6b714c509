import { describe, expect, it } from "vitest";
import { createMessage, ErrorCode, getBus, newId, openSubscription, openTopic } from "@whisper/core";
import { waitFor } from "../support/wait";

describe("eventbus subscription figures", () => {
  it("reports per subscription what waits, what is handed out, and what was redelivered", async () => {
    const bus = `stats-${newId()}`;
    const url = `eventbus:figures?bus=${bus}`;
    const sub = await openSubscription(url, { name: "worker", maxOutstanding: 2, maxBatch: 2 });
    const topic = await openTopic(url);
    await Promise.all([1, 2, 3, 4, 5].map((n) => topic.publish(createMessage({ data: n }))));
    expect(getBus(bus).subscriptionStats("figures")).toEqual([{ name: "worker", queued: 5, inFlight: 0, redelivered: 0 }]);

    const iterator = sub[Symbol.asyncIterator]();
    const first = (await iterator.next()).value!;
    expect(getBus(bus).subscriptionStats("figures")).toEqual([{ name: "worker", queued: 3, inFlight: 2, redelivered: 0 }]);
    first.nack();
    await waitFor(() => getBus(bus).subscriptionStats("figures")[0]!.redelivered === 1, { what: "the nack reaching the bus" });
    expect(getBus(bus).subscriptionStats("figures")[0]).toMatchObject({ inFlight: 1, redelivered: 1 });
    await iterator.return!();
    await sub.close();
    expect(getBus(bus).subscriptionStats("figures")).toEqual([]);
  });
});

describe("eventbus URLs", () => {
  it("rejects what it cannot use instead of ignoring it", async () => {
    await expect(openTopic("eventbus:")).rejects.toMatchObject({ code: ErrorCode.InvalidUrl });
    await expect(openTopic("eventbus:orders?buss=typo")).rejects.toMatchObject({ code: ErrorCode.InvalidUrl });
    await expect(openSubscription("eventbus:orders?maxQueued=-1")).rejects.toMatchObject({ code: ErrorCode.InvalidUrl });
  });
});
