import { expect } from "vitest";
import { createMessage, ErrorCode, openSubscription, openTopic, subAck, type SubscriptionOptions } from "@whisper/core";
import { freePort } from "./net";
import { TcpProxy } from "./tcp-proxy";
import { waitFor } from "./wait";

/** Opening a topic and a subscription on a port where nothing listens fails at once with ERR_CONNECTION naming the broker. */
export async function expectUnreachableAtOpen(url: (port: number) => string, brokerName: RegExp): Promise<void> {
  const port = await freePort();
  for (const open of [() => openTopic(url(port)), () => openSubscription(url(port))]) {
    const error = await open().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: ErrorCode.Connection });
    expect((error as Error).message).toMatch(brokerName);
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
  }
}

/**
 * Publishes `total` messages one after the other through a TcpProxy in front of the broker while a named
 * subscription receives them, cutting every connection twice on the way. Every publish must resolve, and every
 * message whose publish resolved must arrive (duplicates allowed: at-least-once).
 */
export async function expectNothingLostAcrossCuts(options: {
  brokerPort: number;
  url: (port: number) => string;
  total?: number;
  subscription?: SubscriptionOptions;
}): Promise<{ received: number; duplicates: number; reconnects: number }> {
  const total = options.total ?? 300;
  const proxy = await TcpProxy.start(options.brokerPort);
  const url = options.url(proxy.port);
  const sub = await openSubscription(url, { name: "survivor", use: [subAck()], ackDeadlineMs: 1_000, ...options.subscription });
  const topic = await openTopic(url);
  const received = new Set<string>();
  let deliveries = 0;
  const receiving = sub.receive((m) => {
    deliveries++;
    received.add(m.id);
  });
  const published: string[] = [];
  try {
    for (let i = 0; i < total; i++) {
      if (i === Math.floor(total / 3) || i === Math.floor((2 * total) / 3)) proxy.cut();
      published.push(await topic.publish(createMessage({ data: { i } })));
    }
    await waitFor(() => published.every((id) => received.has(id)), {
      timeoutMs: 30_000,
      everyMs: 20,
      what: `all ${total} published messages received (${received.size} so far)`,
    });
    expect(published).toHaveLength(total);
    expect(proxy.connections).toBeGreaterThan(2);
    return { received: received.size, duplicates: deliveries - received.size, reconnects: proxy.connections };
  } finally {
    await topic.close();
    await sub.close();
    await receiving;
    await proxy.close();
  }
}
