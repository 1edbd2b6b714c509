import { describe, expect, it } from "vitest";
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
} from "@/server/whisper";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
          if (++n === calls) setTimeout(() => stop.abort(), 20);
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

  it("deadLetter() moves a message that keeps failing, with reason, original topic and id", async () => {
    const dlUrl = `eventbus:dead-${newId()}?bus=unit`;
    const dlSub = await openSubscription(dlUrl, { use: [subAck()] });
    const { url, topic, run } = await pair({ use: [subAck(), deadLetter(dlUrl, { after: 3 })] });
    const poison = createMessage({ data: "poison" });
    await topic.publish(poison);
    const attempts: number[] = [];
    await run(3, (m) => {
      attempts.push(m.deliveryAttempt);
      throw new Error("cannot handle this");
    });
    expect(attempts).toEqual([1, 2, 3]);
    const stop = new AbortController();
    let dead: Message | undefined;
    await dlSub.receive(
      (m) => {
        dead = m;
        stop.abort();
      },
      { signal: stop.signal },
    );
    expect(dead).toMatchObject({ id: poison.id, data: "poison" });
    expect(dead!.extensions).toMatchObject({
      deadletterreason: "cannot handle this",
      originaltopic: new URL(url).href,
      originalid: poison.id,
    });
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
    while (sub.stats().acked + sub.stats().nacked < 4) await sleep(5);
    stop.abort();
    await receiving;
    // 1st copy failed (nacked, redelivered), 2nd handled, 3rd and the redelivery acked without the handler.
    expect(handled).toBe(2);
    expect(sub.stats()).toMatchObject({ received: 4, acked: 3, nacked: 1 });
  });

  it("dedup() memory is bounded by maxIds and by the window", async () => {
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
    await sleep(60);
    await handler(fakeMessage("d"));
    expect(handled).toBe(6); // window passed
  });

  it("timeout() fails a slow handler with HandlerTimeoutError so the message is nacked", async () => {
    const { topic, run } = await pair({ use: [subAck(), timeout(20)], onError: (e) => errors.push(e) });
    const errors: unknown[] = [];
    await topic.publish(createMessage({ data: "slow" }));
    const attempts: number[] = [];
    await run(2, async (m) => {
      attempts.push(m.deliveryAttempt);
      if (m.deliveryAttempt === 1) await sleep(100);
    });
    expect(attempts).toEqual([1, 2]);
    expect(errors[0]).toMatchObject({ code: ErrorCode.HandlerTimeout });
  });
});
