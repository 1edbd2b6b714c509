import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startOnJetStream, type RunningApp, type TestSchema } from "../support/app";
import { deleteStreams } from "../support/jetstream";

/**
 * The dashboard on JetStream (the NATS server of the machine, 127.0.0.1:4222) with a stream of its own:
 * publishing, recording, and the consumer figures that only JetStream can give.
 */

const NATS = "127.0.0.1:4222";
const stream = `API_${Date.now().toString(36).toUpperCase()}`;
const topic = `api-js-${Date.now().toString(36)}`;
let schema: TestSchema;
let app: RunningApp;

beforeAll(async () => {
  ({ schema, app } = await startOnJetStream("api_js", { nats: NATS, stream, topics: `${topic}:ordered` }));
});

afterAll(async () => {
  await app?.stop();
  await schema?.drop();
  await deleteStreams(NATS, [stream]);
});

describe("on JetStream", () => {
  it("publishes, records, and reports the recorder consumer's pending / ack-pending / redelivered", async () => {
    const response = await app.api(`/api/topics/${topic}/events`, {
      method: "POST",
      headers: { "content-type": "application/cloudevents-batch+json" },
      body: JSON.stringify(
        ["js-1", "js-2"].map((id) => ({ specversion: "1.0", id, source: "/tests", type: "t", orderingkey: "k" })),
      ),
    });
    expect((await response.json()).results.map((r: { status: string }) => r.status)).toEqual(["published", "published"]);
    await eventually(async () => {
      const items = (await (await app.api(`/api/messages?topic=${topic}`)).json()).items;
      return items.length === 2 ? items : undefined;
    }, "both messages to be recorded");
    const subscriptions = (await (await app.api(`/api/subscriptions?topic=${topic}`)).json()).subscriptions;
    expect(subscriptions).toHaveLength(1);
    expect(subscriptions[0]).toMatchObject({ topic, name: expect.any(String) });
    for (const field of ["pending", "ackPending", "redelivered"]) expect(subscriptions[0][field]).toEqual(expect.any(Number));
  });

  it("refuses failure injection, which only the in-process bus has", async () => {
    const response = await app.api(`/api/topics/${topic}/failure`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ failing: true }),
    });
    expect(response.status).toBe(409);
    expect((await response.json()).detail).toMatch(/in-process bus/);
  });
});
