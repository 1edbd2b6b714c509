import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSchema, ensureBuilt, eventually, startApp, type RunningApp, type TestSchema } from "../support/app";
import { freePort } from "../support/net";
import { SidecarClient, jsonEvent, statusDetails, type PublishOutcome } from "../support/sidecar-client";
import { badCalls, send } from "../support/sidecar-fuzz";
import { dataOf, subscribe } from "../support/sidecar-streams";

/**
 * The sidecar served by the dashboard process (`next start` of the production build with WHISPER_GRPC_PORT),
 * called by a client of another library (@grpc/grpc-js; the server is Connect): what it publishes is recorded
 * in history, subscriptions ack and nack, a paused ordering key answers FAILED_PRECONDITION and Resume sends
 * the stalled messages in order.
 */
const VIEWER = "sidecar-dashboard-viewer-token";
let schema: TestSchema;
let app: RunningApp;
let client: SidecarClient;

beforeAll(async () => {
  await ensureBuilt();
  schema = await createSchema("sidecar");
  const grpcPort = await freePort();
  app = await startApp({
    databaseUrl: schema.databaseUrl,
    topics: "dash.events,dash.ordered:ordered",
    env: { WHISPER_GRPC_PORT: String(grpcPort), WHISPER_VIEWER_TOKEN: VIEWER },
  });
  await eventually(async () => (/gRPC sidecar at 127\.0\.0\.1:\d+/.test(app.output()) ? true : undefined), "the sidecar to listen");
  client = new SidecarClient(`127.0.0.1:${grpcPort}`, app.token);
});

afterAll(async () => {
  client?.close();
  await app?.stop();
  await schema?.drop();
});

async function recorded(id: string): Promise<Record<string, unknown>> {
  return eventually(async () => {
    const response = await app.api(`/api/messages/${encodeURIComponent(id)}`);
    return response.status === 200 ? ((await response.json()) as Record<string, unknown>) : undefined;
  }, `message ${id} to be recorded`);
}

async function setFailing(topic: string, failing: boolean): Promise<void> {
  const response = await app.api(`/api/topics/${topic}/failure`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ failing }),
  });
  expect(await response.json()).toEqual({ failing });
}

describe("the sidecar in the dashboard", () => {
  it("publishes into history: the recorded message has the event's attributes and data", async () => {
    const event = jsonEvent("dash-1", { order: 17 });
    event.attributes = { ...event.attributes, subject: { ceString: "orders/17" }, tenant: { ceString: "acme" } };
    expect(await client.call("Publish", { topic: "dash.events", event })).toEqual({ id: "dash-1" });
    const message = await recorded("dash-1");
    expect(message).toMatchObject({ id: "dash-1", topic: "dash.events", type: "test.sidecar", source: "/sidecar-test", subject: "orders/17" });
    expect(JSON.stringify(message)).toContain('"tenant":"acme"');
    expect(JSON.stringify(message)).toContain('{\\"order\\":17}');
    const { topics } = await client.call<{ topics: Array<{ name: string; ordering: boolean }> }>("ListTopics", {});
    expect(topics.map((t) => [t.name, t.ordering]).sort()).toEqual([["dash.events", false], ["dash.ordered", true]]);
  });

  it("delivers with acks; a nack comes back with deliveryAttempt 2", async () => {
    const stream = await subscribe(client, { topic: "dash.events", subscription: "billing", maxInFlight: 5 });
    const { outcomes } = await client.call<{ outcomes: PublishOutcome[] }>("PublishBatch", {
      topic: "dash.events",
      events: [jsonEvent("dash-a", { n: 1 }), jsonEvent("dash-b", { n: 2 })],
    });
    expect(outcomes.map((o) => [o.id, o.status])).toEqual([["dash-a", "STATUS_PUBLISHED"], ["dash-b", "STATUS_PUBLISHED"]]);
    const [a, b] = await stream.waitFor(2);
    expect([a, b].map((d) => [d!.event.id, d!.deliveryAttempt])).toEqual([["dash-a", 1], ["dash-b", 1]]);
    stream.ack(a!.deliveryId);
    stream.nack(b!.deliveryId);
    const again = (await stream.waitFor(3))[2]!;
    expect([again.event.id, again.deliveryAttempt, dataOf(again)]).toEqual(["dash-b", 2, { n: 2 }]);
    stream.ack(again.deliveryId);
    stream.end();
    expect((await stream.ended).code).toBe(grpc.status.OK);
    // The recorder's subscription is the dashboard's own.
    const stolen = await subscribe(client, { topic: "dash.events", subscription: "whisper-recorder-dash_events" }).catch((e: Error) => e);
    expect(String(stolen)).toMatch(new RegExp(`ended before subscribed: ${grpc.status.INVALID_ARGUMENT} `));
  });

  it("answers FAILED_PRECONDITION for a paused key; Resume sends the stalled messages in order, then the key flows", async () => {
    const watcher = await subscribe(client, { topic: "dash.ordered", maxInFlight: 10 });
    await setFailing("dash.ordered", true);
    const { outcomes } = await client.call<{ outcomes: PublishOutcome[] }>("PublishBatch", {
      topic: "dash.ordered",
      events: ["o-1", "o-2", "o-3"].map((id) => jsonEvent(id, { id }, "customer-7")),
    });
    expect(outcomes.map((o) => [o.id, o.status, o.error?.code, o.error?.grpcCode])).toEqual(
      ["o-1", "o-2", "o-3"].map((id) => [id, "STATUS_FAILED", "ERR_ORDERING_KEY_PAUSED", grpc.status.FAILED_PRECONDITION]),
    );
    await setFailing("dash.ordered", false);

    const paused = await client.fail("Publish", { topic: "dash.ordered", event: jsonEvent("o-4", { id: "o-4" }, "customer-7") });
    expect(paused.code).toBe(grpc.status.FAILED_PRECONDITION);
    const { details } = statusDetails(paused);
    expect(details["google.rpc.ErrorInfo"]).toMatchObject({ reason: "ERR_ORDERING_KEY_PAUSED", domain: "whisper", metadata: { topic: "dash.ordered", orderingKey: "customer-7" } });
    expect(details["google.rpc.PreconditionFailure"]).toMatchObject({ violations: [{ type: "ORDERING_KEY_PAUSED", subject: "dash.ordered/customer-7" }] });

    const viewer = new SidecarClient(client.address, VIEWER);
    const { keys } = await viewer.call<{ keys: Array<{ orderingKey: string; stalledMessages: number; error: string }> }>("PausedKeys", { topic: "dash.ordered" });
    expect(keys).toEqual([{ orderingKey: "customer-7", stalledMessages: 4, error: expect.stringMatching(/failing on purpose/) }]);
    expect((await viewer.fail("Resume", { topic: "dash.ordered", orderingKey: "customer-7" })).code).toBe(grpc.status.PERMISSION_DENIED);
    viewer.close();

    const { resent } = await client.call<{ resent: PublishOutcome[] }>("Resume", { topic: "dash.ordered", orderingKey: "customer-7" });
    expect(resent.map((o) => [o.id, o.status])).toEqual(["o-1", "o-2", "o-3", "o-4"].map((id) => [id, "STATUS_PUBLISHED"]));
    expect(await client.call("Publish", { topic: "dash.ordered", event: jsonEvent("o-5", { id: "o-5" }, "customer-7") })).toEqual({ id: "o-5" });
    expect((await client.call<{ keys: unknown[] }>("PausedKeys", { topic: "dash.ordered" })).keys).toEqual([]);

    // One key is delivered one message at a time: ack each to get the next; the order is the publish order.
    for (let i = 0; i < 5; i++) {
      const delivery = (await watcher.waitFor(i + 1))[i]!;
      watcher.ack(delivery.deliveryId);
    }
    expect(watcher.deliveries.map((d) => d.event.id)).toEqual(["o-1", "o-2", "o-3", "o-4", "o-5"]);
    for (const id of ["o-1", "o-5"]) await recorded(id);
    const history = (await (await app.api("/api/messages?topic=dash.ordered&orderingKey=customer-7")).json()).items as Array<{ id: string }>;
    expect(history.map((m) => m.id).reverse()).toEqual(["o-1", "o-2", "o-3", "o-4", "o-5"]);
    watcher.end();
  });

  it("answers generated bad requests with their codes, and the dashboard stays healthy", async () => {
    const calls = badCalls(46, 7, { plain: "dash.events", ordered: "dash.ordered", viewerToken: VIEWER, maxEventBytes: 1024 * 1024 });
    for (const call of calls) {
      const error = await send(client, call);
      expect([call.name, error.code]).toEqual([call.name, call.code]);
    }
    expect((await app.api("/api/health")).status).toBe(200);
  });
});
