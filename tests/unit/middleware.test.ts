import { describe, expect, it, vi } from "vitest";
import {
  count,
  createMessage,
  deadLetter,
  dedup,
  ErrorCode,
  newId,
  openSubscription,
  openTopic,
  retry,
  subAck,
  timeout,
  type Message,
  type ReceivedMessage,
  type SubscriptionOptions,
  type Topic,
} from "@whisper/core";
import { deferred, waitFor } from "../support/wait";

/** A fresh in-process topic + subscription, and a way to receive until `count` handler calls ended. */
async function pair(options: SubscriptionOptions) {
  const url = `eventbus:mw-${newId()}?bus=unit`;
  const sub = await openSubscription(url, options);
  const topic = await openTopic(url);
  const run = async (calls: number, handler: (m: ReceivedMessage) => unknown, ms = 5_000) => {
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), ms);
    let n = 0;
    await sub.receive(
      async (m) => {
        try {
          await handler(m);
        } finally {
          if (++n === calls) stop.abort();
        }
      },
      { signal: stop.signal },
    );
    clearTimeout(timer);
    return n;
  };
  return { url, sub, topic, run };
}

describe("middleware", () => {
  it("count() counts publishes, receptions, acks, nacks and failures", async () => {
    const url = `eventbus:count-${newId()}?bus=unit`;
    const sub = await openSubscription(url, { use: [count(), subAck()] });
    const topic = await openTopic(url, { use: [count()] });
    await topic.publish(createMessage({ data: "ok" }));
    await topic.publish(createMessage({ data: "fail" }));
    const stop = new AbortController();
    let calls = 0;
    await sub.receive(
      (m) => {
        if (++calls === 3) stop.abort();
        if (m.data === "fail" && m.deliveryAttempt === 1) throw new Error("first try fails");
      },
      { signal: stop.signal },
    );
    expect(topic.stats()).toMatchObject({ published: 2, publishFailed: 0 });
    expect(sub.stats()).toMatchObject({ received: 3, acked: 2, nacked: 1, failed: 1 });
  });

  it("retry() re-runs a failing handler in-process, then lets the last error through", async () => {
    const { topic, run } = await pair({ use: [subAck(), retry({ attempts: 3, backoff: () => 1 })] });
    await topic.publish(createMessage({ data: "flaky" }));
    let calls = 0;
    await run(1, () => {
      if (++calls < 3) throw new Error("flaky");
    });
    expect(calls).toBe(3);
  });

  it("deadLetter() publishes a message that keeps failing through the topic it is given, and leaves that topic open", async () => {
    const dlUrl = `eventbus:dead-${newId()}?bus=unit`;
    const dlSub = await openSubscription(dlUrl, { use: [subAck()] });
    const dlTopic = await openTopic(dlUrl);
    const { url, sub, topic, run } = await pair({ use: [subAck(), deadLetter(dlTopic, { after: 3 })] });
    const poison = createMessage({ data: "poison" });
    await topic.publish(poison);
    const attempts: number[] = [];
    await run(3, (m) => {
      attempts.push(m.deliveryAttempt);
      throw new Error("cannot handle this");
    });
    expect(attempts).toEqual([1, 2, 3]);
    const stop = new AbortController();
    const deadline = setTimeout(() => stop.abort(), 5_000);
    let dead: Message | undefined;
    await dlSub.receive(
      (m) => {
        dead = m;
        stop.abort();
      },
      { signal: stop.signal },
    );
    clearTimeout(deadline);
    expect(dead).toMatchObject({ id: poison.id, data: "poison" });
    expect(dead!.extensions).toMatchObject({
      deadletterreason: "cannot handle this",
      originaltopic: new URL(url).href,
      originalid: poison.id,
    });
    // The caller owns the dead-letter topic: closing the subscription leaves it open and usable.
    await sub.close();
    expect(dlTopic.closed).toBe(false);
    await expect(dlTopic.publish(createMessage({ data: "still open" }))).resolves.toBeTypeOf("string");
    await Promise.all([dlTopic.close(), dlSub.close()]);
  });

  it("deadLetter() lets the original failure through when the dead-letter publish fails, so the message comes back", async () => {
    const closedTopic: Topic = await openTopic(`eventbus:dead-${newId()}?bus=unit`);
    await closedTopic.close();
    const { topic, run } = await pair({ use: [subAck(), deadLetter(closedTopic, { after: 1 })] });
    await topic.publish(createMessage({ data: "poison" }));
    const attempts: number[] = [];
    await run(2, (m) => {
      attempts.push(m.deliveryAttempt);
      throw new Error("cannot handle this");
    });
    expect(attempts).toEqual([1, 2]);
  });

  it("middleware factories reject bad options with InvalidOptionsError", async () => {
    const topic = await openTopic(`eventbus:dead-${newId()}?bus=unit`);
    const factories = [
      () => retry({ attempts: 0 }),
      () => dedup({ window: 0 }),
      () => dedup({ maxIds: 1.5 }),
      () => timeout(0),
      () => deadLetter(topic, { after: 0 }),
      () => deadLetter(undefined as unknown as Topic),
    ];
    for (const make of factories) {
      let error: unknown;
      try {
        make();
      } catch (e) {
        error = e;
      }
      expect(error, make.toString()).toMatchObject({ code: ErrorCode.InvalidOptions });
    }
    await topic.close();
  });

  it("dedup() hands a repeated id to the handler once, and only once acked", async () => {
    const { sub, topic } = await pair({ use: [count(), subAck(), dedup({ window: 60_000 })] });
    const message = createMessage({ data: "once" });
    await topic.publish(message); // fails the first time: must not be remembered
    await topic.publish(message);
    await topic.publish(message);
    let handled = 0;
    const stop = new AbortController();
    const receiving = sub.receive(
      () => {
        handled++;
        if (handled === 1) throw new Error("first attempt fails");
      },
      { signal: stop.signal },
    );
    // Three copies + the redelivery of the failed one = 4 settlements (1 nack, 3 acks).
    await waitFor(() => sub.stats().acked + sub.stats().nacked === 4, { what: "4 settlements" });
    stop.abort();
    await receiving;
    // 1st copy failed (nacked, redelivered), 2nd handled, 3rd and the redelivery acked without the handler.
    expect(handled).toBe(2);
    expect(sub.stats()).toMatchObject({ received: 4, acked: 3, nacked: 1 });
  });

  it("dedup() memory is bounded by maxIds and by the window", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      await dedupBounds();
    } finally {
      vi.useRealTimers();
    }
  });

  async function dedupBounds() {
    const settle: Array<(m: ReceivedMessage, o: "ack" | "nack") => void> = [];
    let handled = 0;
    const middleware = dedup({ window: 50, maxIds: 3 });
    const handler = middleware.receive!(
      async () => {
        handled++;
      },
      {
        topic: "t",
        subscription: "s",
        capabilities: { nack: true, redelivery: true, ordering: true, persistence: false, sharedSubscriptions: true },
        counters: { published: 0, publishFailed: 0, received: 0, acked: 0, nacked: 0, failed: 0 },
        onSettle: (l) => settle.push(l),
      },
    );
    const fakeMessage = (id: string) => {
      const m = { id, settlement: "pending", ack: () => settle.forEach((l) => l(m as never, "ack")) };
      return m as unknown as ReceivedMessage;
    };
    for (const id of ["a", "b", "c", "d"]) {
      const m = fakeMessage(id);
      await handler(m);
      m.ack();
    }
    await handler(fakeMessage("d"));
    expect(handled).toBe(4); // "d" remembered
    await handler(fakeMessage("a"));
    expect(handled).toBe(5); // "a" evicted: only 3 ids kept
    vi.setSystemTime(Date.now() + 60);
    await handler(fakeMessage("d"));
    expect(handled).toBe(6); // window passed
  }

  it("timeout() fails a slow handler with HandlerTimeoutError so the message is nacked", async () => {
    const { topic, run } = await pair({ use: [subAck(), timeout(20)], onError: (e) => errors.push(e) });
    const errors: unknown[] = [];
    await topic.publish(createMessage({ data: "slow" }));
    const attempts: number[] = [];
    const redelivered = deferred();
    await run(2, async (m) => {
      attempts.push(m.deliveryAttempt);
      // The first attempt outlives its timeout: it finishes only once the redelivery arrived.
      if (m.deliveryAttempt === 1) await redelivered.promise;
      else redelivered.resolve();
    });
    expect(attempts).toEqual([1, 2]);
    expect(errors[0]).toMatchObject({ code: ErrorCode.HandlerTimeout });
  });
});
