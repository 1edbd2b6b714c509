import * as grpc from "@grpc/grpc-js";
import descriptor from "protobufjs/ext/descriptor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SidecarClient, jsonEvent, statusDetails, type WireEvent } from "../support/sidecar-client";
import { badCalls, rawCall, send } from "../support/sidecar-fuzz";
import { startSidecarProcess, type RunningSidecarProcess } from "../support/sidecar-process";
import { dataOf, subscribe } from "../support/sidecar-streams";

/**
 * The standalone sidecar (`npm run sidecar`: the core and the gRPC server, no Next, no database) against a
 * client of another library (@grpc/grpc-js + proto-loader; the server is Connect + protobuf-es).
 */
const ADMIN = "sidecar-admin-token-0123456789";
const VIEWER = "sidecar-viewer-token-0123456789";
const MAX_EVENT_BYTES = 4096;
let sidecar: RunningSidecarProcess;
let client: SidecarClient;
let viewer: SidecarClient;

beforeAll(async () => {
  sidecar = await startSidecarProcess({
    WHISPER_ADMIN_TOKEN: ADMIN,
    WHISPER_VIEWER_TOKEN: VIEWER,
    WHISPER_BUS: "eventbus:?bus=sidecar-standalone",
    WHISPER_TOPICS: "sc.plain,sc.ordered:ordered,sc.shared,sc.flow,sc.types",
    WHISPER_MAX_EVENT_BYTES: String(MAX_EVENT_BYTES),
  });
  client = new SidecarClient(sidecar.address, ADMIN);
  viewer = new SidecarClient(sidecar.address, VIEWER);
});

afterAll(async () => {
  client?.close();
  viewer?.close();
  await sidecar?.stop();
});

describe("standalone sidecar (no database)", () => {
  it("lists the topics of WHISPER_TOPICS to a viewer", async () => {
    const { topics } = await viewer.call<{ topics: Array<{ name: string; ordering: boolean; pausedKeys: number }> }>("ListTopics", {});
    expect(topics.map((t) => [t.name, t.ordering])).toEqual([
      ["sc.plain", false],
      ["sc.ordered", true],
      ["sc.shared", false],
      ["sc.flow", false],
      ["sc.types", false],
    ]);
  });

  it("delivers with deliveryAttempt; a nacked delivery comes back with attempt 2, acked ones never", async () => {
    const stream = await subscribe(client, { topic: "sc.plain", subscription: "workers", maxInFlight: 10 });
    for (const n of [1, 2, 3]) expect(await client.call("Publish", { topic: "sc.plain", event: jsonEvent(`plain-${n}`, { n }) })).toEqual({ id: `plain-${n}` });
    const first = await stream.waitFor(3);
    expect(first.map((d) => [d.event.id, d.deliveryAttempt])).toEqual([["plain-1", 1], ["plain-2", 1], ["plain-3", 1]]);
    stream.ack(first[0]!.deliveryId, first[2]!.deliveryId);
    stream.nack(first[1]!.deliveryId);
    const again = (await stream.waitFor(4))[3]!;
    expect([again.event.id, again.deliveryAttempt, dataOf(again)]).toEqual(["plain-2", 2, { n: 2 }]);
    stream.ack(again.deliveryId);
    // Nothing else is owed: a marker published last is the next delivery.
    await client.call("Publish", { topic: "sc.plain", event: jsonEvent("plain-marker", {}) });
    expect((await stream.waitFor(5))[4]!.event.id).toBe("plain-marker");
    stream.ack(stream.deliveries[4]!.deliveryId);
    stream.end();
    expect((await stream.ended).code).toBe(grpc.status.OK);
  });

  it("shares messages between streams of one subscription name; a private stream gets every message", async () => {
    // One in flight each: while neither settles, both must hold a message of the 40 (each goes to one member).
    const a = await subscribe(client, { topic: "sc.shared", subscription: "group", maxInFlight: 1 });
    const b = await subscribe(client, { topic: "sc.shared", subscription: "group", maxInFlight: 1 });
    const solo = await subscribe(viewer, { topic: "sc.shared", maxInFlight: 100 });
    const events = Array.from({ length: 40 }, (_, i) => jsonEvent(`shared-${i}`, { i }));
    const { outcomes } = await client.call<{ outcomes: Array<{ status: string }> }>("PublishBatch", { topic: "sc.shared", events });
    expect(outcomes.every((o) => o.status === "STATUS_PUBLISHED")).toBe(true);
    await Promise.all([a.waitFor(1), b.waitFor(1), solo.waitFor(40)]);
    expect(a.deliveries[0]!.event.id).not.toBe(b.deliveries[0]!.event.id);
    const acked = new Set<string>();
    const deadline = Date.now() + 30_000;
    while (acked.size < 40 && Date.now() < deadline) {
      for (const s of [a, b]) for (const d of s.deliveries) if (!acked.has(`${s === a}:${d.deliveryId}`)) {
        acked.add(`${s === a}:${d.deliveryId}`);
        s.ack(d.deliveryId);
      }
      if (acked.size < 40) await Promise.race([a.waitFor(a.deliveries.length + 1, 100), b.waitFor(b.deliveries.length + 1, 100)]).catch(() => {});
    }
    const shared = [...a.deliveries, ...b.deliveries].map((d) => d.event.id).sort();
    expect(shared).toEqual(events.map((e) => e.id).sort());
    expect(solo.deliveries.map((d) => d.event.id).sort()).toEqual(events.map((e) => e.id).sort());
    for (const s of [a, b, solo]) {
      if (s === solo) s.ack(...s.deliveries.map((d) => d.deliveryId));
      s.end();
      expect((await s.ended).code).toBe(grpc.status.OK);
    }
  });

  it("never has more than max_in_flight deliveries unsettled", async () => {
    const stream = await subscribe(client, { topic: "sc.flow", maxInFlight: 3 });
    const settled = new Set<string>();
    await client.call("PublishBatch", { topic: "sc.flow", events: Array.from({ length: 12 }, (_, i) => jsonEvent(`flow-${i}`, i)) });
    let seen = 0;
    while (seen < 12) {
      const now = await stream.waitFor(seen + 1);
      seen = now.length;
      expect(now.length - settled.size).toBeLessThanOrEqual(3);
      const next = now.find((d) => !settled.has(d.deliveryId))!;
      settled.add(next.deliveryId);
      stream.ack(next.deliveryId);
    }
    expect(stream.deliveries.map((d) => d.event.id).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `flow-${i}`).sort());
    stream.cancel();
  });

  it("keeps every attribute type, binary data and nanosecond time through publish and delivery", async () => {
    const stream = await subscribe(client, { topic: "sc.types", maxInFlight: 5 });
    const sent: WireEvent = {
      id: "types-1",
      source: "urn:test",
      specVersion: "1.0",
      type: "t.bin",
      attributes: {
        time: { ceTimestamp: { seconds: 1767225600, nanos: 123456789 } },
        subject: { ceString: "sub" },
        datacontenttype: { ceString: "application/octet-stream" },
        dataschema: { ceUri: "https://example.com/schema" },
        flag: { ceBoolean: true },
        count: { ceInteger: -42 },
        label: { ceString: "x" },
        blob: { ceBytes: Buffer.from([1, 2, 3]) },
      },
      binaryData: Buffer.from([0, 255, 1, 254]),
    };
    await client.call("Publish", { topic: "sc.types", event: sent });
    const [got] = await stream.waitFor(1);
    const a = got!.event.attributes!;
    expect(got!.event.binaryData).toEqual(Buffer.from([0, 255, 1, 254]));
    expect(a.time!.ceTimestamp).toEqual({ seconds: "1767225600", nanos: 123456789 });
    expect([a.subject!.ceString, a.datacontenttype!.ceString, a.dataschema!.ceUri, a.flag!.ceBoolean, a.count!.ceInteger, a.label!.ceString]).toEqual([
      "sub", "application/octet-stream", "https://example.com/schema", true, -42, "x",
    ]);
    // Binary extension values travel as their CloudEvents string form (base64), as in the JSON and HTTP formats.
    expect(a.blob!.ceString).toBe("AQID");
    stream.ack(got!.deliveryId);
    stream.end();
  });

  it("refuses a named subscription to a viewer, a stream that does not start with open, an unknown delivery id, bad opens", async () => {
    const denied = await subscribe(viewer, { topic: "sc.plain", subscription: "steal" }).catch((e: Error) => e);
    expect(String(denied)).toMatch(new RegExp(`ended before subscribed: ${grpc.status.PERMISSION_DENIED} `));
    const call = client.client.Subscribe(client.metadata());
    const status = new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
    call.on("error", () => {});
    call.write({ ack: { deliveryIds: ["1"] } });
    expect((await status).code).toBe(grpc.status.INVALID_ARGUMENT);
    const unknown = await subscribe(client, { topic: "sc.plain" });
    unknown.ack("999");
    expect((await unknown.ended).code).toBe(grpc.status.INVALID_ARGUMENT);
    for (const [open, code] of [
      [{ topic: "sc.nope" }, grpc.status.NOT_FOUND],
      [{ topic: "bad topic" }, grpc.status.INVALID_ARGUMENT],
      [{ topic: "sc.plain", maxInFlight: 10_001 }, grpc.status.INVALID_ARGUMENT],
      [{ topic: "sc.plain", subscription: "no.dots" }, grpc.status.INVALID_ARGUMENT],
    ] as const) {
      const refused = await subscribe(client, open).catch((e: Error) => e);
      expect([open, String(refused)]).toEqual([open, expect.stringContaining(`ended before subscribed: ${code} `)]);
    }
  });

  it("answers reflection: the services, and each file with its dependencies", async () => {
    const call = client.reflection.ServerReflectionInfo();
    const answers: Array<Record<string, unknown>> = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on("data", (a) => answers.push(a));
      call.on("end", resolve);
      call.on("error", reject);
    });
    call.write({ listServices: "*" });
    call.write({ fileContainingSymbol: "whisper.v1.PubSubService.Subscribe" });
    call.write({ fileByFilename: "nope.proto" });
    call.end();
    await done;
    const services = (answers[0]!.listServicesResponse as { service: Array<{ name: string }> }).service.map((s) => s.name);
    expect(services).toEqual(["whisper.v1.PubSubService", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]);
    const files = (answers[1]!.fileDescriptorResponse as { fileDescriptorProto: Buffer[] }).fileDescriptorProto.map(
      (bytes) => descriptor.FileDescriptorProto.decode(bytes) as unknown as { name: string; service: Array<{ name: string; method: Array<{ name: string }> }> },
    );
    expect(files.map((f) => f.name)).toEqual([
      "whisper/v1/sidecar.proto",
      "io/cloudevents/v1/cloudevents.proto",
      "google/protobuf/any.proto",
      "google/protobuf/timestamp.proto",
    ]);
    expect(files[0]!.service[0]!.method.map((m) => m.name)).toEqual(["Publish", "PublishBatch", "Subscribe", "Resume", "PausedKeys", "ListTopics"]);
    expect((answers[2]!.errorResponse as { errorCode: number }).errorCode).toBe(grpc.status.NOT_FOUND);
  });

  it("answers 200 generated bad requests with their status codes and details, and stays up", async () => {
    const calls = badCalls(200, 13, { plain: "sc.plain", ordered: "sc.ordered", viewerToken: VIEWER, maxEventBytes: MAX_EVENT_BYTES });
    for (const call of calls) {
      const error = await send(client, call);
      const { details } = statusDetails(error);
      expect([call.name, error.code]).toEqual([call.name, call.code]);
      expect([call.name, details["google.rpc.ErrorInfo"]?.domain]).toEqual([call.name, "whisper"]);
      if (call.field !== undefined) {
        const violations = (details["google.rpc.BadRequest"]?.fieldViolations ?? []) as Array<{ field: string }>;
        expect([call.name, violations[0]?.field]).toEqual([call.name, call.field]);
      }
    }
    // Bytes that are no protobuf message, an unknown method, a request over the body limit.
    const garbage = await rawCall(sidecar.address, "/whisper.v1.PubSubService/Publish", Buffer.from([0xff, 0xff, 0xff, 0x0f, 0x12]), ADMIN);
    // Connect, like grpc-go, answers a request it cannot unmarshal with INTERNAL (before any handler runs).
    expect([garbage?.code, garbage?.details]).toEqual([grpc.status.INTERNAL, expect.stringMatching(/parse binary/)]);
    const unknown = await rawCall(sidecar.address, "/whisper.v1.PubSubService/Nope", Buffer.alloc(0), ADMIN);
    expect(unknown?.code).toBe(grpc.status.UNIMPLEMENTED);
    const huge = await client.fail("Publish", { topic: "sc.plain", event: jsonEvent("huge", "x".repeat(5 * 1024 * 1024)) });
    expect(huge.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(sidecar.alive()).toBe(true);
    expect((await client.call<{ topics: unknown[] }>("ListTopics", {})).topics).toHaveLength(5);
  });

  it("stops on SIGTERM while a stream is open", async () => {
    const stream = await subscribe(client, { topic: "sc.plain", maxInFlight: 1 });
    const exit = await sidecar.stop();
    expect(exit.code).toBe(143);
    expect((await stream.ended).code).not.toBe(grpc.status.OK);
  });
});
