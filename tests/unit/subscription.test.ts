import { describe, expect, it } from "vitest";
import { createMessage, defaults, ErrorCode, openSubscription, subAck, type ReceivedMessage } from "@/server/whisper";
import { installFakeDriver } from "./fake-driver";

const fake = installFakeDriver();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs receive() until `count` handler calls finished, then stops it. */
async function handle(
  count: number,
  handler: (m: ReceivedMessage) => Promise<void> | void,
  options: Parameters<typeof openSubscription>[1] = {},
) {
  const sub = await openSubscription("fake:s", options);
  const driver = fake.subscription();
  const stop = new AbortController();
  let done = 0;
  const receiving = sub.receive(
    async (m) => {
      try {
        await handler(m);
      } finally {
        if (++done === count) stop.abort();
      }
    },
    { signal: stop.signal },
  );
  return { sub, driver, receiving };
}

describe("Subscription.receive", () => {
  it("runs handlers concurrently up to the limit", async () => {
    let running = 0;
    let max = 0;
    const { driver, receiving } = await handle(
      20,
      async () => {
        running++;
        max = Math.max(max, running);
        await sleep(5);
        running--;
      },
      { concurrency: 4, use: [subAck()] },
    );
    driver.deliver(Array.from({ length: 20 }, (_, i) => createMessage({ data: i })));
    await receiving;
    expect(max).toBe(4);
    await sleep(0);
    expect(driver.acked).toHaveLength(20);
  });

  it("handles one ordering key at a time, in order, while other keys run", async () => {
    const order = new Map<string, number[]>();
    const running = new Map<string, number>();
    let maxSameKey = 0;
    let maxAll = 0;
    let all = 0;
    const { driver, receiving } = await handle(
      60,
      async (m) => {
        const key = m.orderingKey!;
        running.set(key, (running.get(key) ?? 0) + 1);
        maxSameKey = Math.max(maxSameKey, running.get(key)!);
        maxAll = Math.max(maxAll, ++all);
        order.set(key, [...(order.get(key) ?? []), m.data as number]);
        await sleep(Math.random() * 3);
        running.set(key, running.get(key)! - 1);
        all--;
      },
      { concurrency: 3 },
    );
    const messages = [];
    for (let i = 0; i < 20; i++) for (const key of ["x", "y", "z"]) messages.push(createMessage({ orderingKey: key, data: i }));
    driver.deliver(messages);
    await receiving;
    expect(maxSameKey).toBe(1);
    expect(maxAll).toBe(3);
    for (const key of ["x", "y", "z"]) expect(order.get(key)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("nacks a message whose handler throws (with subAck and without)", async () => {
    for (const use of [[subAck()], []]) {
      const { driver, receiving } = await handle(
        1,
        () => {
          throw new Error("handler failed");
        },
        { use },
      );
      driver.deliver([createMessage({ data: 1 })]);
      await receiving;
      await sleep(0);
      expect(driver.nacked).toHaveLength(1);
      expect(driver.acked).toHaveLength(0);
    }
  });

  it("holds at most maxOutstanding messages", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { sub, driver } = await handle(100, () => gate, { concurrency: 100, maxOutstanding: 10 });
    driver.deliver(Array.from({ length: 30 }, (_, i) => createMessage({ data: i })));
    await sleep(20);
    expect(driver.queue.length).toBe(20);
    release();
    await sub.close();
  });

  it("close() lets running handlers finish, nacks messages that never started, closes the driver", async () => {
    let finished = 0;
    const { sub, driver, receiving } = await handle(
      99,
      async () => {
        await sleep(30);
        finished++;
      },
      { concurrency: 2, use: [subAck()] },
    );
    driver.deliver(Array.from({ length: 6 }, (_, i) => createMessage({ data: i })));
    await sleep(5);
    await sub.close();
    await receiving;
    expect(finished).toBe(2);
    expect(driver.acked).toHaveLength(2);
    expect(driver.nacked).toHaveLength(4);
    // Handed back with a delay, so a broker that redelivers at once does not give them to this closing subscription.
    expect(driver.nacked.every((n) => n.delayMs === defaults.subscription.stopNackDelayMs)).toBe(true);
    expect(driver.closed).toBe(true);
  });

  it("close() nacks the messages of handlers still running after drainTimeoutMs", async () => {
    const { sub, driver, receiving } = await handle(99, async () => void (await sleep(300)), {
      drainTimeoutMs: 20,
      use: [subAck()],
    });
    driver.deliver([createMessage({ data: "stuck" })]);
    await sleep(5);
    await sub.close();
    await receiving;
    expect(driver.nacked).toHaveLength(1);
    expect(driver.acked).toHaveLength(0);
  });

  it("refuses a second concurrent receive with AlreadyReceivingError", async () => {
    const sub = await openSubscription("fake:s");
    const stop = new AbortController();
    const first = sub.receive(() => {}, { signal: stop.signal });
    await expect(sub.receive(() => {})).rejects.toMatchObject({ code: ErrorCode.AlreadyReceiving });
    stop.abort();
    await first;
  });

  it("rejects invalid options and publish-only middleware", async () => {
    await expect(openSubscription("fake:s", { concurrency: -1 })).rejects.toMatchObject({
      code: ErrorCode.InvalidOptions,
    });
    await expect(
      openSubscription("fake:s", { use: [{ name: "publishOnly", publish: (next) => next }] }),
    ).rejects.toMatchObject({ code: ErrorCode.InvalidOptions });
  });
});

describe("Subscription async iteration", () => {
  it("yields messages to settle by hand and nacks what was fetched but not yielded on break", async () => {
    const sub = await openSubscription("fake:s");
    const driver = fake.subscription();
    driver.deliver(Array.from({ length: 5 }, (_, i) => createMessage({ data: i })));
    const seen: unknown[] = [];
    for await (const message of sub) {
      seen.push(message.data);
      message.ack();
      if (seen.length === 2) break;
    }
    await sleep(0);
    expect(seen).toEqual([0, 1]);
    expect(driver.acked).toHaveLength(2);
    expect(driver.nacked).toHaveLength(3);
    await sub.close();
  });
});
