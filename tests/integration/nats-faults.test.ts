import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import { connect, headers as natsHeaders, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMessage,
  dedup,
  ErrorCode,
  newId,
  openSubscription,
  openTopic,
  pubAck,
  subAck,
  type ReceivedMessage,
  type Subscription,
} from "@whisper/core";
import { connectionState, TestNatsServer } from "../support/nats-server";

const CODES = new Set<string>(Object.values(ErrorCode).filter((code) => code !== ErrorCode.Unknown));

/** Receives (handler acks via subAck) until `done()` says so; fails after `ms` without progress. */
async function receiveUntil(
  sub: Subscription,
  onMessage: (m: ReceivedMessage) => void,
  done: () => boolean,
  ms = 60_000,
): Promise<void> {
  const stop = new AbortController();
  let timer = setTimeout(() => stop.abort(), ms);
  await sub.receive(
    (m) => {
      onMessage(m);
      clearTimeout(timer);
      timer = setTimeout(() => stop.abort(), ms);
      if (done()) stop.abort();
    },
    { signal: stop.signal },
  );
  clearTimeout(timer);
}

describe("NATS / JetStream faults (own nats-server, stopped by PID)", () => {
  let server: TestNatsServer;
  beforeAll(async () => {
    server = await TestNatsServer.start();
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it("kill -9 while publishing 10k JetStream messages with pub-ack: each publish resolves or fails coded; every resolved one arrives once", async () => {
    const base = `jetstream://127.0.0.1:${server.port}/faults.kill`;
    const url = `${base}?stream=KILL`;
    const topic = await openTopic(url, { use: [pubAck()], batching: { maxMessages: 100 } });
    const total = 10_000;
    let resolvedCount = 0;
    let killed: Promise<void> | undefined;
    const outcomes = Array.from({ length: total }, (_, i) => {
      const result = topic.publish(createMessage({ type: "fault.kill", data: { i } }));
      return result.then(
        (id) => {
          resolvedCount++;
          // Crash the broker once a fifth of the stream is stored, then bring it back on the same port and store.
          if (resolvedCount === total / 5 && killed === undefined) {
            killed = (async () => {
              await server.stop("SIGKILL");
              await new Promise((resolve) => setTimeout(resolve, 300));
              await server.restart();
            })();
          }
          return { ok: true as const, id };
        },
        (error: unknown) => ({ ok: false as const, error }),
      );
    });
    const settled = await Promise.all(outcomes);
    expect(killed, "the server was killed mid-stream").toBeDefined();
    await killed;
    await topic.close();

    const resolved = new Set<string>();
    for (const outcome of settled) {
      if (outcome.ok) resolved.add(outcome.id);
      else expect(CODES.has((outcome.error as { code?: string }).code ?? ""), String(outcome.error)).toBe(true);
    }
    expect(resolved.size).toBeGreaterThan(total / 5);

    const nc = await connect({ servers: `127.0.0.1:${server.port}` });
    const stored = (await (await jetstreamManager(nc)).streams.info("KILL")).state.messages;
    await nc.close();
    expect(stored).toBeGreaterThanOrEqual(resolved.size);

    const handled = new Map<string, number>();
    let deliveries = 0;
    const sub = await openSubscription(url, { name: "kill-reader", use: [subAck(), dedup()] });
    await receiveUntil(
      sub,
      (m) => handled.set(m.id, (handled.get(m.id) ?? 0) + 1),
      () => ++deliveries >= stored,
    );
    await sub.close();
    for (const id of resolved) expect(handled.get(id), `resolved message ${id}`).toBe(1);
    for (const count of handled.values()) expect(count).toBe(1);
  });

  it("a durable subscriber killed mid-stream and reopened receives everything it had not acked", async () => {
    const url = `jetstream://127.0.0.1:${server.port}/faults.durable?stream=DURABLE`;
    const topic = await openTopic(url);
    const total = 2_000;
    const sent = Array.from({ length: total }, (_, i) => createMessage({ type: "fault.durable", data: { i } }));
    await Promise.all(sent.map((m) => topic.publish(m)));
    await topic.close();

    const child = spawn(
      process.execPath,
      ["--import", "tsx", "tests/support/subscriber-child.ts", url, "worker", "1000"],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const acked = new Set<string>();
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      child.once("exit", () => reject(new Error("subscriber child exited before it was killed")));
      lines.on("line", (line) => {
        if (line.startsWith("acking ")) acked.add(line.slice(7));
        if (acked.size === total / 4) {
          child.kill("SIGKILL");
          resolve();
        }
      });
    });
    await exited;
    lines.close();
    expect(acked.size).toBeGreaterThanOrEqual(total / 4);
    expect(acked.size).toBeLessThan(total);

    const unacked = new Set(sent.map((m) => m.id).filter((id) => !acked.has(id)));
    const seen = new Set<string>();
    const sub = await openSubscription(url, { name: "worker", ackDeadlineMs: 1_000, use: [subAck()] });
    await receiveUntil(
      sub,
      (m) => {
        if (unacked.has(m.id)) seen.add(m.id);
      },
      () => seen.size === unacked.size,
    );
    await sub.close();
    expect(seen.size).toBe(unacked.size);
  });

  it("an ordering key whose send fails while the server is down pauses; after restart and resume() it publishes in order", async () => {
    const url = `jetstream://127.0.0.1:${server.port}/faults.ordering?stream=ORDERING`;
    const topic = await openTopic(`${url}&bufferTimeoutMs=100`, {
      ordering: true,
      retry: { attempts: 2, initialDelayMs: 10, maxDelayMs: 20 },
    });
    const pauses: string[] = [];
    topic.onPause((event) => pauses.push(`${event.orderingKey}:${event.messages.length}`));
    await topic.publish(createMessage({ orderingKey: "k", data: 0 }));

    await server.stop("SIGKILL");
    await connectionState(server.url, false);
    const failed = await Promise.allSettled(
      [1, 2, 3].map((i) => topic.publish(createMessage({ orderingKey: "k", data: i }))),
    );
    for (const outcome of failed) {
      expect(outcome.status).toBe("rejected");
      expect((outcome as PromiseRejectedResult).reason.code).toBe(ErrorCode.OrderingKeyPaused);
    }
    expect(pauses).toEqual(["k:3"]);
    expect(topic.pausedKeys().map((p) => p.orderingKey)).toEqual(["k"]);

    await server.restart();
    await connectionState(server.url, true);
    await expect(topic.publish(createMessage({ orderingKey: "k", data: 4 }))).rejects.toMatchObject({
      code: ErrorCode.OrderingKeyPaused,
    });
    expect(topic.resume("k")).toBe(true);
    const again = Array.from({ length: 20 }, (_, i) => topic.publish(createMessage({ orderingKey: "k", data: 10 + i })));
    await Promise.all(again);
    await topic.close();

    const order: number[] = [];
    const sub = await openSubscription(url, { name: "ordering-reader", use: [subAck()] });
    await receiveUntil(
      sub,
      (m) => order.push(m.data as number),
      () => order.length === 21,
    );
    await sub.close();
    expect(order).toEqual([0, ...Array.from({ length: 20 }, (_, i) => 10 + i)]);
  });
});

describe("interop with a raw @nats-io client (shared server)", () => {
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connect({ servers: "127.0.0.1:4222" });
  });
  afterAll(async () => {
    await nc.close();
  });

  it("whisper receives plain and structured messages a raw client published on core NATS", async () => {
    const subject = `interop.in.${newId()}`;
    const sub = await openSubscription(`nats://127.0.0.1:4222/interop.in.*`);
    const plainWithId = natsHeaders();
    plainWithId.set("Nats-Msg-Id", "raw-id-1");
    const structured = natsHeaders();
    structured.set("content-type", "application/cloudevents+json");
    nc.publish(subject, "hello", { headers: plainWithId });
    nc.publish(subject, new Uint8Array([0, 1, 2, 255]));
    nc.publish(
      subject,
      JSON.stringify({ specversion: "1.0", id: "ce-1", source: "/raw", type: "raw.structured", data: { a: 1 } }),
      { headers: structured },
    );
    nc.publish(subject, JSON.stringify({ specversion: "1.0", id: "ce-2", source: "/raw", type: "raw.sniffed" }));
    await nc.flush();
    const got: ReceivedMessage[] = [];
    await receiveUntil(sub, (m) => got.push(m), () => got.length === 4, 10_000);
    await sub.close();

    const [withId, bytes, ce1, ce2] = got;
    expect(withId).toMatchObject({ id: "raw-id-1", type: "nats.message", source: "nats://127.0.0.1:4222", subject });
    expect(Buffer.from(withId!.data as Uint8Array).toString()).toBe("hello");
    expect(bytes).toMatchObject({ type: "nats.message", subject });
    expect(bytes!.id).toMatch(/^[A-Za-z0-9]{22}$/);
    expect([...(bytes!.data as Uint8Array)]).toEqual([0, 1, 2, 255]);
    expect(ce1).toMatchObject({ id: "ce-1", source: "/raw", type: "raw.structured", data: { a: 1 } });
    expect(ce2).toMatchObject({ id: "ce-2", type: "raw.sniffed" });
  });

  it("a raw client reads whisper's binary-mode CloudEvents headers and body", async () => {
    const subject = `interop.out.${newId()}`;
    const raw = nc.subscribe(subject, { max: 1 });
    await nc.flush();
    const topic = await openTopic(`nats://127.0.0.1:4222/${subject}`, { use: [pubAck()] });
    const sent = createMessage({ type: "com.example.out", source: "/whisper-test", subject: "s 1", data: { n: 7 } });
    await topic.publish(sent);
    await topic.close();
    let msg: Msg | undefined;
    for await (const m of raw) msg = m;
    expect(msg!.headers!.get("ce-specversion")).toBe("1.0");
    expect(msg!.headers!.get("ce-id")).toBe(sent.id);
    expect(msg!.headers!.get("ce-type")).toBe("com.example.out");
    expect(msg!.headers!.get("ce-source")).toBe("/whisper-test");
    expect(msg!.headers!.get("ce-subject")).toBe("s%201");
    expect(msg!.headers!.get("content-type")).toBe("application/json");
    expect(msg!.json()).toEqual({ n: 7 });
  });

  it("whisper reads raw JetStream publishes (id from Nats-Msg-Id or the stream sequence) and a raw consumer reads whisper's", async () => {
    const id = newId();
    const stream = `INTEROP_${id}`;
    const subject = `interop.js.${id}`;
    const url = `jetstream://127.0.0.1:4222/${subject}?stream=${stream}`;
    const topic = await openTopic(url);
    const js = jetstream(nc);
    try {
      await js.publish(subject, "no id");
      await js.publish(subject, "with id", { msgID: "raw-js-1" });
      const sent = createMessage({ type: "com.example.js", data: "from whisper" });
      await topic.publish(sent);

      const got: ReceivedMessage[] = [];
      const sub = await openSubscription(url, { name: "interop", use: [subAck()] });
      await receiveUntil(sub, (m) => got.push(m), () => got.length === 3, 10_000);
      await sub.close();
      expect(got[0]).toMatchObject({ id: `${stream}:1`, type: "nats.message", subject });
      expect(got[1]).toMatchObject({ id: "raw-js-1", type: "nats.message", subject });
      expect(got[2]).toMatchObject({ id: sent.id, type: "com.example.js", data: "from whisper" });

      const consumer = await js.consumers.get(stream);
      const rawMessages: JsMsg[] = [];
      for await (const m of await consumer.fetch({ max_messages: 3, expires: 5_000 })) rawMessages.push(m);
      const fromWhisper = rawMessages[2];
      expect(fromWhisper!.headers!.get("ce-id")).toBe(sent.id);
      expect(fromWhisper!.headers!.get("Nats-Msg-Id")).toBe(sent.id);
      expect(fromWhisper!.string()).toBe("from whisper");
    } finally {
      await topic.close();
      await (await jetstreamManager(nc)).streams.delete(stream).catch(() => {});
    }
  });
});

describe("oversized messages", () => {
  it("reject with MessageTooLargeError on nats:// and jetstream://, and the topic keeps working", async () => {
    const id = newId();
    const stream = `OVERSIZE_${id}`;
    const big = new Uint8Array(2 * 1024 * 1024);
    for (const url of [
      `nats://127.0.0.1:4222/oversize.${id}`,
      `jetstream://127.0.0.1:4222/oversize.js.${id}?stream=${stream}`,
    ]) {
      const topic = await openTopic(url, { use: [pubAck()] });
      await expect(topic.publish(createMessage({ data: big }))).rejects.toMatchObject({
        code: ErrorCode.MessageTooLarge,
      });
      await expect(topic.publish(createMessage({ data: "small" }))).resolves.toBeTypeOf("string");
      await topic.close();
    }
    const nc = await connect({ servers: "127.0.0.1:4222" });
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => {});
    await nc.close();
  });
});
