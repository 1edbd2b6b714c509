import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMessage, ErrorCode, newId, openSubscription, openTopic, subAck, type ReceivedMessage } from "@whisper/core";
import { collect } from "../conformance/suite";
import { expectNothingLostAcrossCuts, expectUnreachableAtOpen } from "../support/broker-faults";
import { waitFor } from "../support/wait";

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

describe("redis private subscriptions' groups", () => {
  const groupNames = async (stream: string) =>
    ((await admin.xinfo("GROUPS", stream)) as unknown[][]).map((fields) => String(fields[fields.indexOf("name") + 1]));
  const lease = (stream: string, group: string) => `whisper:lease:{${stream}}:${group}`;

  it("creates a private group with a lease and deletes both on close", async () => {
    const stream = fresh();
    const sub = await openSubscription(`${SERVER}/${stream}`);
    const [group] = await groupNames(stream);
    expect(group).toMatch(/^whisper-private-/);
    const ttl = await admin.pttl(lease(stream, group!));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5 * 60_000);
    await sub.close();
    expect(await groupNames(stream)).toEqual([]);
    expect(await admin.exists(lease(stream, group!))).toBe(0);
  });

  it("removes the group of a crashed process once its lease expired, at the next opening; live private groups stay", async () => {
    const stream = fresh();
    const url = `${SERVER}/${stream}?privateLeaseMs=1000`;
    const child = spawn(process.execPath, ["--import", "tsx", "tests/support/subscriber-child.ts", url, "", "1000"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      child.once("exit", () => reject(new Error("subscriber child exited before it was killed")));
      lines.on("line", (line) => line === "ready" && resolve());
    });
    const [orphan] = await groupNames(stream);
    expect(orphan).toMatch(/^whisper-private-/);
    const live = await openSubscription(url, { use: [subAck()] });
    const liveGroup = (await groupNames(stream)).find((name) => name !== orphan)!;
    child.kill("SIGKILL");
    await exited;
    lines.close();

    // The dead process's group stays until its lease ran out; the live one renews its lease and stays.
    await waitFor(async () => (await admin.exists(lease(stream, orphan!))) === 0, { timeoutMs: 5_000, everyMs: 50, what: "the orphan's lease expired" });
    expect(await groupNames(stream)).toEqual(expect.arrayContaining([orphan, liveGroup]));
    const named = await openSubscription(url, { name: "cleaner" });
    expect((await groupNames(stream)).sort()).toEqual(["cleaner", liveGroup].sort());
    expect(await admin.exists(lease(stream, liveGroup))).toBe(1);

    const receiving = collect(live, 1);
    const topic = await openTopic(url);
    const sent = await topic.publish(createMessage({ data: "still here" }));
    expect((await receiving).map((m) => m.id)).toEqual([sent]);
    await Promise.all([topic.close(), live.close(), named.close()]);
    expect(await groupNames(stream)).toEqual(["cleaner"]);
  });

  it("refuses a subscription name that private groups use", async () => {
    await expect(openSubscription(`${SERVER}/${fresh()}`, { name: "whisper-private-mine" })).rejects.toMatchObject({ code: ErrorCode.InvalidOptions });
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
