import { describe, expect, it } from "vitest";
import {
  ConnectionError,
  createMessage,
  defaults,
  ErrorCode,
  NotFoundError,
  openSubscription,
  SettlementError,
  subAck,
  type ReceivedMessage,
} from "@whisper/core";
import { deferred, nextMacrotask, waitFor } from "../support/wait";
import { installFakeDriver } from "./fake-driver";

const fake = installFakeDriver();

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
    const gate = deferred();
    const { driver, receiving } = await handle(
      20,
      async () => {
        running++;
        max = Math.max(max, running);
        await gate.promise;
        running--;
      },
      { concurrency: 4, use: [subAck()] },
    );
    driver.deliver(Array.from({ length: 20 }, (_, i) => createMessage({ data: i })));
    await waitFor(() => running === 4, { what: "4 handlers running" });
    gate.resolve();
    await receiving; // resolves once the handlers finished and their acks were sent
    expect(max).toBe(4);
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
        await nextMacrotask();
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
      expect(driver.nacked).toHaveLength(1);
      expect(driver.acked).toHaveLength(0);
    }
  });

  it("holds at most maxOutstanding messages", async () => {
    const gate = deferred();
    let started = 0;
    const { sub, driver } = await handle(
      100,
      () => {
        started++;
        return gate.promise;
      },
      { concurrency: 100, maxOutstanding: 10 },
    );
    driver.deliver(Array.from({ length: 30 }, (_, i) => createMessage({ data: i })));
    await waitFor(() => started === 10, { what: "10 handlers started" });
    expect(driver.queue.length).toBe(20);
    gate.resolve();
    await sub.close();
  });

  it("close() lets running handlers finish, nacks messages that never started, closes the driver", async () => {
    let started = 0;
    let finished = 0;
    const gate = deferred();
    const { sub, driver, receiving } = await handle(
      99,
      async () => {
        started++;
        await gate.promise;
        finished++;
      },
      { concurrency: 2, use: [subAck()] },
    );
    driver.deliver(Array.from({ length: 6 }, (_, i) => createMessage({ data: i })));
    await waitFor(() => started === 2, { what: "2 handlers started" });
    const closing = sub.close();
    // The 4 that never started are handed back at once; the running ones are still waited for.
    await waitFor(() => driver.nacked.length === 4, { what: "4 nacks" });
    expect(driver.closed).toBe(false);
    gate.resolve();
    await closing;
    await receiving;
    expect(finished).toBe(2);
    expect(driver.acked).toHaveLength(2);
    expect(driver.nacked).toHaveLength(4);
    // Handed back with a delay, so a broker that redelivers at once does not give them to this closing subscription.
    expect(driver.nacked.every((n) => n.delayMs === defaults.subscription.stopNackDelayMs)).toBe(true);
    expect(driver.closed).toBe(true);
    expect(driver.afterClose).toEqual([]);
  });

  it("close() nacks the messages of handlers still running after drainTimeoutMs", async () => {
    const stuck = deferred();
    let started = 0;
    const { sub, driver, receiving } = await handle(
      99,
      () => {
        started++;
        return stuck.promise;
      },
      { drainTimeoutMs: 20, use: [subAck()] },
    );
    driver.deliver([createMessage({ data: "stuck" })]);
    await waitFor(() => started === 1, { what: "the handler started" });
    await sub.close();
    await receiving;
    expect(driver.nacked).toHaveLength(1);
    expect(driver.acked).toHaveLength(0);
    stuck.resolve();
  });

  it("refuses a second concurrent receive with AlreadyReceivingError", async () => {
    const sub = await openSubscription("fake:s");
    const stop = new AbortController();
    const first = sub.receive(() => {}, { signal: stop.signal });
    await expect(sub.receive(() => {})).rejects.toMatchObject({ code: ErrorCode.AlreadyReceiving });
    stop.abort();
    await first;
  });

  it("refuses receive() and iteration on a closed subscription with SubscriptionClosedError", async () => {
    const sub = await openSubscription("fake:s");
    await sub.close();
    await expect(sub.receive(() => {})).rejects.toMatchObject({ code: ErrorCode.SubscriptionClosed });
    await expect(sub[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: ErrorCode.SubscriptionClosed });
  });

  it("rejects invalid options and publish-only middleware", async () => {
    await expect(openSubscription("fake:s", { concurrency: -1 })).rejects.toMatchObject({
      code: ErrorCode.InvalidOptions,
    });
    await expect(
      openSubscription("fake:s", { use: [{ name: "publishOnly", publish: (next) => next }] }),
    ).rejects.toMatchObject({ code: ErrorCode.InvalidOptions });
  });

  it("hands the driver's broker sequence on as message.sequence", async () => {
    const seen: Array<bigint | number | undefined> = [];
    const { driver, receiving } = await handle(3, (m) => void seen.push(m.sequence));
    driver.deliver([createMessage({ data: 1 }), createMessage({ data: 2 })], { sequence: 41 });
    driver.deliver([createMessage({ data: 3 })]);
    await receiving;
    expect(seen).toEqual([41, 42, undefined]);
  });
});

describe("Subscription settlement failures", () => {
  it("reports a failed ack send to onError with the error and the ids, and still sends the nacks", async () => {
    const errors: Array<{ error: unknown; message: ReceivedMessage | undefined }> = [];
    const { driver, receiving } = await handle(
      2,
      (m) => {
        if (m.data === "bad") throw new Error("handler failed");
      },
      { use: [subAck()], onError: (error, message) => errors.push({ error, message }) },
    );
    const ackFailure = new ConnectionError("ack lost");
    driver.ackError = ackFailure;
    const good = createMessage({ data: "good" });
    const bad = createMessage({ data: "bad" });
    driver.deliver([good, bad]);
    await receiving;
    const settlement = errors.find((e) => e.error instanceof SettlementError);
    expect(settlement?.message).toBeUndefined();
    expect(settlement?.error).toMatchObject({
      code: ErrorCode.SettlementFailed,
      operation: "ack",
      messageIds: [good.id],
      cause: ackFailure,
    });
    expect((settlement!.error as SettlementError).ackIds).toHaveLength(1);
    expect(driver.nacked).toHaveLength(1); // the failed ack did not stop the nack behind it
  });

  it("reports a failed nack send to onError", async () => {
    const errors: unknown[] = [];
    const { driver, receiving } = await handle(
      1,
      () => {
        throw new Error("handler failed");
      },
      { onError: (error) => errors.push(error) },
    );
    driver.nackError = new ConnectionError("nack lost");
    const message = createMessage({ data: 1 });
    driver.deliver([message]);
    await receiving;
    expect(errors).toContainEqual(
      expect.objectContaining({ code: ErrorCode.SettlementFailed, operation: "nack", messageIds: [message.id] }),
    );
  });

  it("reports a settlement made after close() instead of sending it to the closed driver", async () => {
    const errors: unknown[] = [];
    const sub = await openSubscription("fake:s", { onError: (error) => errors.push(error) });
    const driver = fake.subscription();
    const kept = createMessage({ data: "kept unsettled" });
    driver.deliver([kept, createMessage({ data: "in hand at break" })]);
    let held: ReceivedMessage | undefined;
    for await (const m of sub) {
      if (held) break;
      held = m; // moves on without settling it
    }
    await sub.close();
    held!.ack();
    await waitFor(() => errors.length === 1, { what: "the late ack reported" });
    expect(errors[0]).toMatchObject({ operation: "ack", messageIds: [kept.id], cause: { code: ErrorCode.SubscriptionClosed } });
    expect(driver.afterClose).toEqual([]);
  });
});

describe("Subscription receive errors", () => {
  it("retries a receive error the driver calls retryable, with backoff, reporting each, then receives", async () => {
    const errors: unknown[] = [];
    const sub = await openSubscription("fake:s", {
      retry: { initialDelayMs: 1, maxDelayMs: 2 },
      onError: (error) => errors.push(error),
    });
    const driver = fake.subscription();
    const failures = [new ConnectionError("broker restarting"), new ConnectionError("still restarting")];
    driver.receiveErrors.push(...failures);
    driver.deliver([createMessage({ data: "after the outage" })]);
    const stop = new AbortController();
    const received: unknown[] = [];
    await sub.receive(
      (m) => {
        received.push(m.data);
        stop.abort();
      },
      { signal: stop.signal },
    );
    expect(received).toEqual(["after the outage"]);
    expect(errors).toEqual(failures);
    expect(driver.receiveCalls).toBe(3);
    await sub.close();
  });

  it("rejects receive() with a receive error the driver does not call retryable", async () => {
    const sub = await openSubscription("fake:s");
    const gone = new NotFoundError("stream S");
    fake.subscription().receiveErrors.push(gone);
    await expect(sub.receive(() => {})).rejects.toBe(gone);
    await sub.close();
  });

  it("ends iteration by throwing a receive error the driver does not call retryable", async () => {
    const sub = await openSubscription("fake:s");
    const gone = new NotFoundError("stream S");
    fake.subscription().receiveErrors.push(gone);
    const iterate = async () => {
      for await (const m of sub) m.ack();
    };
    await expect(iterate()).rejects.toBe(gone);
    await sub.close();
  });

  it("stops retrying when stopped, resolving receive()", async () => {
    const sub = await openSubscription("fake:s", { retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    const driver = fake.subscription();
    driver.receiveErrors.push(new ConnectionError("down"));
    const receiving = sub.receive(() => {});
    await waitFor(() => driver.receiveCalls === 1, { what: "the failed receive" });
    await sub.close(); // aborts the backoff wait
    await receiving;
    expect(driver.receiveCalls).toBe(1);
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
    await sub.close(); // flushes settlements
    expect(seen).toEqual([0, 1]);
    expect(driver.acked).toHaveLength(2);
    expect(driver.nacked).toHaveLength(3);
  });

  it("close() waits for an active iterator to hand back its batch before closing the driver", async () => {
    const sub = await openSubscription("fake:s");
    const driver = fake.subscription();
    driver.deliver(Array.from({ length: 5 }, (_, i) => createMessage({ data: i })));
    let closing: Promise<void> | undefined;
    const seen: unknown[] = [];
    for await (const message of sub) {
      seen.push(message.data);
      closing = sub.close();
      await nextMacrotask(); // the consumer is still busy with its message while close() runs
      expect(driver.closed).toBe(false);
      message.ack();
    }
    await closing;
    expect(seen).toEqual([0]); // nothing is yielded after close()
    expect(driver.acked).toHaveLength(1);
    expect(driver.nacked).toHaveLength(4);
    expect(driver.closed).toBe(true);
    expect(driver.afterClose).toEqual([]);
  });

  it("close() gives back what a stalled iterator holds after drainTimeoutMs, then closes the driver", async () => {
    const sub = await openSubscription("fake:s", { drainTimeoutMs: 10 });
    const driver = fake.subscription();
    driver.deliver(Array.from({ length: 3 }, (_, i) => createMessage({ data: i })));
    const iterator = sub[Symbol.asyncIterator]();
    const first = await iterator.next(); // the consumer takes one message and never comes back
    expect(first.done).toBe(false);
    await sub.close();
    expect(driver.nacked).toHaveLength(3);
    expect(driver.closed).toBe(true);
    expect(driver.afterClose).toEqual([]);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    expect(driver.afterClose).toEqual([]);
  });
});
