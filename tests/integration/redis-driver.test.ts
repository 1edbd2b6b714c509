import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMessage, ErrorCode, newId, openSubscription, openTopic, subAck, type ReceivedMessage } from "@whisper/core";
import { collect } from "../conformance/suite";
import { expectNothingLostAcrossCuts, expectUnreachableAtOpen } from "../support/broker-faults";

const SERVER = "redis://127.0.0.1:6379";
let admin: Redis;
const streams: string[] = [];
const fresh = () => {
  const stream = `it.redis.${newId()}`;
  streams.push(stream);
  return stream;
};

beforeAll(() => {
  admin = new Redis(6379, "127.0.0.1");
});
afterAll(async () => {
  if (streams.length > 0) await admin.del(...streams);
  admin.disconnect();
});

describe("redis:// URLs", () => {
  it("rejects unknown settings, bad values and a missing stream with coded errors", async () => {
    await expect(openTopic(`${SERVER}/s?maxlen=5`)).rejects.toMatchObject({ code: ErrorCode.InvalidUrl });
    await expect(openTopic(`${SERVER}/s?maxLen=-1`)).rejects.toMatchObject({ code: ErrorCode.InvalidUrl });
    await expect(openTopic(`${SERVER}/s?maxLen=5&maxAgeMs=5`)).rejects.toMatchObject({ code: ErrorCode.InvalidUrl });
    await expect(openTopic(SERVER)).rejects.toMatchObject({ code: ErrorCode.InvalidUrl });
    await expect(openSubscription(`${SERVER}/s?deliver=some`)).rejects.toMatchObject({ code: ErrorCode.InvalidUrl });
    await expect(openTopic(`${SERVER}/s`, { driver: { maxLength: 3 } })).rejects.toMatchObject({ code: ErrorCode.InvalidOptions });
  });

  it("trims with maxLen (XADD MAXLEN ~) and maxAgeMs (XADD MINID ~)", async () => {
    const capped = fresh();
    const topic = await openTopic(`${SERVER}/${capped}?maxLen=10`);
    await Promise.all(Array.from({ length: 1_000 }, (_, i) => topic.publish(createMessage({ data: i }))));
    await topic.close();
    // Approximate trimming removes whole macro nodes (100 entries by default), never below the limit.
    const length = await admin.xlen(capped);
    expect(length).toBeGreaterThanOrEqual(10);
    expect(length).toBeLessThan(200);

    const aged = fresh();
    for (let i = 1; i <= 300; i++) await admin.xadd(aged, `1000-${i}`, "old", String(i));
    const young = await openTopic(`${SERVER}/${aged}?maxAgeMs=60000`);
    await young.publish(createMessage({ data: "new" }));
    await young.close();
    const first = (await admin.xrange(aged, "-", "+", "COUNT", 1))[0]![0];
    expect(first).not.toBe("1000-1");
    expect(await admin.xlen(aged)).toBeLessThan(301);
  });
});

describe("redis faults", () => {
  it("an unreachable server at open is a connection error naming it", async () => {
    await expectUnreachableAtOpen((port) => `redis://127.0.0.1:${port}/s`, /Redis/);
  });

  it("reconnects after the connections drop mid-stream, and loses nothing that was acknowledged", async () => {
    const stream = fresh();
    const outcome = await expectNothingLostAcrossCuts({ brokerPort: 6379, url: (port) => `redis://127.0.0.1:${port}/${stream}` });
    expect(outcome.received).toBe(300);
  });
});

describe("redis interop", () => {
  it("receives a CloudEvent that a raw client added in the entry-field binding", async () => {
    const stream = fresh();
    const sub = await openSubscription(`${SERVER}/${stream}`, { use: [subAck()] });
    const receiving = collect(sub, 2);
    await admin.xadd(stream, "*", "ce_specversion", "1.0", "ce_id", "raw-1", "ce_source", "/raw", "ce_type", "raw.event",
      "ce_time", "2026-01-02T03:04:05Z", "ce_tenant", "acme", "content-type", "application/json", "data", '{"n":1}');
    await admin.xadd(stream, "*", "sensor", "t1", "value", "21.5");
    const [event, plain] = (await receiving) as [ReceivedMessage, ReceivedMessage];
    await sub.close();
    expect(event).toMatchObject({ id: "raw-1", source: "/raw", type: "raw.event", data: { n: 1 }, extensions: { tenant: "acme" } });
    expect(typeof event.sequence).toBe("bigint");
    expect(plain).toMatchObject({ type: "redis.entry", data: { sensor: "t1", value: "21.5" } });
    expect(plain.id).toMatch(new RegExp(`^${stream.replace(/\./g, "\\.")}:\\d+-\\d+$`));
  });

  it("publishes entries a raw client reads as CloudEvent fields", async () => {
    const stream = fresh();
    const topic = await openTopic(`${SERVER}/${stream}`);
    const sent = createMessage({ type: "t.x", source: "/w", subject: "s ü", data: { ok: true }, extensions: { tenant: "acme" } });
    await topic.publish(sent);
    await topic.close();
    const [[, fields]] = (await admin.xrange(stream, "-", "+")) as [[string, string[]]];
    const entry = Object.fromEntries(fields.flatMap((_, i) => (i % 2 === 0 ? [[fields[i], fields[i + 1]]] : [])));
    expect(entry).toMatchObject({
      ce_specversion: "1.0", ce_id: sent.id, ce_type: "t.x", ce_source: "/w", ce_subject: "s ü", ce_tenant: "acme",
      "content-type": "application/json", data: '{"ok":true}',
    });
  });
});
