import { connectAsync, type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMessage, ErrorCode, newId, openSubscription, openTopic, subAck, type ReceivedMessage } from "@whisper/core";
import { collect } from "../conformance/suite";
import { expectNothingLostAcrossCuts, expectUnreachableAtOpen } from "../support/broker-faults";

const SERVER = "mqtt://127.0.0.1:1883";
let raw: MqttClient;

beforeAll(async () => {
  raw = await connectAsync("mqtt://127.0.0.1:1883", { protocolVersion: 5 });
});
afterAll(async () => {
  await raw.endAsync();
});

describe("mqtt:// URLs", () => {
  it("rejects unknown settings, wildcards in a topic, bad filters and share names with coded errors", async () => {
    await expect(openTopic(`${SERVER}/a?qos=2`)).rejects.toMatchObject({ code: ErrorCode.InvalidUrl });
    await expect(openTopic(`${SERVER}/a/+`)).rejects.toMatchObject({ code: ErrorCode.InvalidUrl });
    await expect(openSubscription(`${SERVER}/a/%23/b`)).rejects.toMatchObject({ code: ErrorCode.InvalidUrl });
    await expect(openSubscription(`${SERVER}/a/#`)).rejects.toMatchObject({ code: ErrorCode.InvalidUrl });
    await expect(openTopic(SERVER)).rejects.toMatchObject({ code: ErrorCode.InvalidUrl });
    await expect(openSubscription(`${SERVER}/a`, { name: "bad/name" })).rejects.toMatchObject({ code: ErrorCode.InvalidOptions });
  });

  it("subscribes with wildcards (+, and # written %23)", async () => {
    const base = `it/mqtt/${newId()}`;
    const sub = await openSubscription(`${SERVER}/${base}/+/created`, { use: [subAck()] });
    const all = await openSubscription(`${SERVER}/${base}/%23`, { use: [subAck()] });
    const receiving = collect(sub, 2);
    const everything = collect(all, 3);
    for (const region of ["eu", "us"]) {
      const topic = await openTopic(`${SERVER}/${base}/${region}/created`);
      await topic.publish(createMessage({ data: region }));
      await topic.close();
    }
    const other = await openTopic(`${SERVER}/${base}/eu/deleted`);
    await other.publish(createMessage({ data: "not this" }));
    await other.close();
    expect((await receiving).map((m) => m.data).sort()).toEqual(["eu", "us"]);
    expect((await everything).map((m) => m.data).sort()).toEqual(["eu", "not this", "us"]);
    await Promise.all([sub.close(), all.close()]);
  });
});

describe("mqtt faults", () => {
  it("an unreachable broker at open is a connection error naming it", async () => {
    await expectUnreachableAtOpen((port) => `mqtt://127.0.0.1:${port}/x`, /MQTT broker/);
  });

  it("reconnects after the connections drop mid-stream, and loses nothing the broker acknowledged", async () => {
    const topic = `it/mqtt/${newId()}`;
    const outcome = await expectNothingLostAcrossCuts({ brokerPort: 1883, url: (port) => `mqtt://127.0.0.1:${port}/${topic}` });
    expect(outcome.received).toBe(300);
  });
});

describe("mqtt interop (CloudEvents MQTT binding)", () => {
  it("receives a binary-mode event (MQTT 5 user properties), a structured one and a plain message from a raw client", async () => {
    const topic = `it/mqtt/${newId()}`;
    const sub = await openSubscription(`${SERVER}/${topic}`, { use: [subAck()] });
    const receiving = collect(sub, 3);
    await raw.publishAsync(topic, '{"n":1}', {
      qos: 1,
      properties: {
        contentType: "application/json",
        userProperties: { specversion: "1.0", id: "raw-1", source: "/raw", type: "raw.event", tenant: "acme", "X-Other": "ignored" },
      },
    });
    await raw.publishAsync(topic, JSON.stringify({ specversion: "1.0", id: "raw-2", source: "/raw", type: "raw.structured", data: [1] }), { qos: 1 });
    await raw.publishAsync(topic, "21.5", { qos: 0 });
    const [binary, structured, plain] = (await receiving) as [ReceivedMessage, ReceivedMessage, ReceivedMessage];
    await sub.close();
    expect(binary).toMatchObject({ id: "raw-1", type: "raw.event", data: { n: 1 }, extensions: { tenant: "acme" } });
    expect(structured).toMatchObject({ id: "raw-2", type: "raw.structured", data: [1] });
    expect(plain).toMatchObject({ type: "mqtt.message", subject: topic });
  });

  it("publishes messages a raw client reads in the binding's binary mode", async () => {
    const topic = `it/mqtt/${newId()}`;
    await raw.subscribeAsync(topic, { qos: 1 });
    const got = new Promise<{ payload: Buffer; properties: Record<string, unknown> }>((resolve) =>
      raw.once("message", (_t, payload, packet) => resolve({ payload, properties: (packet.properties ?? {}) as Record<string, unknown> })),
    );
    const whisper = await openTopic(`${SERVER}/${topic}`);
    const sent = createMessage({ type: "t.x", source: "/w", data: { ok: true }, extensions: { tenant: "acme" } });
    await whisper.publish(sent);
    await whisper.close();
    const { payload, properties } = await got;
    await raw.unsubscribeAsync(topic);
    expect(properties.contentType).toBe("application/json");
    expect(properties.userProperties).toMatchObject({ specversion: "1.0", id: sent.id, type: "t.x", source: "/w", tenant: "acme" });
    expect(payload.toString()).toBe('{"ok":true}');
  });
});
