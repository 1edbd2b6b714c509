import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMessage, openSubscription, openTopic, pubAck, type ReceivedMessage } from "@whisper/core";
import { natsConnections } from "@/server/whisper/drivers/nats";
import { connectionState, TestNatsServer } from "../support/nats-server";

describe("NATS connection pool (own nats-server)", () => {
  let server: TestNatsServer;
  beforeAll(async () => {
    server = await TestNatsServer.start();
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it("shares one connection per server between nats:// and jetstream:// users and closes it with the last one", async () => {
    const mine = () => natsConnections().filter((c) => c.server === server.url);
    const a = await openTopic(`nats://127.0.0.1:${server.port}/pool.a`);
    const b = await openSubscription(`nats://127.0.0.1:${server.port}/pool.>`, { name: "q" });
    const c = await openTopic(`jetstream://127.0.0.1:${server.port}/pool.c?stream=POOL`);
    expect(mine()).toEqual([{ server: server.url, users: 3, connected: true }]);
    await a.close();
    await b.close();
    expect(mine()).toEqual([{ server: server.url, users: 1, connected: true }]);
    await c.close();
    expect(mine()).toEqual([]);
  });

  it("holds publishes issued while disconnected and sends them after the reconnect", async () => {
    const url = `nats://127.0.0.1:${server.port}/pool.buffered`;
    const sub = await openSubscription(url);
    const topic = await openTopic(url, { use: [pubAck()] });
    await server.stop("SIGKILL");
    await connectionState(server.url, false);
    const sent = Array.from({ length: 100 }, (_, i) => createMessage({ data: i }));
    const publishing = Promise.all(sent.map((m) => topic.publish(m)));
    await server.restart();
    expect(await publishing).toEqual(sent.map((m) => m.id));

    const got: ReceivedMessage[] = [];
    const stop = new AbortController();
    await sub.receive(
      (m) => {
        got.push(m);
        if (got.length === sent.length) stop.abort();
      },
      { signal: stop.signal },
    );
    expect(got.map((m) => m.data)).toEqual(sent.map((m) => m.data));
    await topic.close();
    await sub.close();
  });
});
