import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topicUrl } from "@/server/config";
import { createSchema, ensureBuilt, eventually, readFrames, startApp, type RunningApp, type TestSchema } from "./app";
import { TcpProxy } from "./tcp-proxy";

/**
 * The dashboard on a broker bus (`WHISPER_BUS=<bus>`), through its API: topic URLs, history (with the broker
 * sequence where the driver has one), the live tail, replay, and the stalled-ordering board with Resume after
 * a real broker outage. The app reaches the broker through a TcpProxy the test controls (an outage = refuse
 * and cut every connection). Each broker's integration file calls it; `cleanup(topics)` removes what the topics
 * left on the broker.
 */
export function dashboardOnBus(options: {
  name: string;
  /** The broker's port on 127.0.0.1 (the proxy forwards there). */
  brokerPort: number;
  /** WHISPER_BUS for a broker at 127.0.0.1:`port`; its publishes should give up within a few seconds of an outage. */
  bus(port: number): string;
  /** The URL the driver expects for `topic` on `bus` (checks server/config.ts topicUrl()). */
  expectedTopicUrl(bus: string, topic: string): string;
  /** Whether recorded rows carry the broker's sequence. */
  sequence: boolean;
  cleanup(topics: string[]): Promise<void>;
}): void {
  const id = Date.now().toString(36);
  const orders = `${options.name}-${id}-orders`;
  const plain = `${options.name}-${id}-plain`;
  let schema: TestSchema;
  let app: RunningApp;
  let proxy: TcpProxy;
  let bus: string;

  beforeAll(async () => {
    await ensureBuilt();
    proxy = await TcpProxy.start(options.brokerPort);
    bus = options.bus(proxy.port);
    schema = await createSchema(`api_${options.name}`);
    // A publish deadline well above a loaded machine's confirm times: the outage below pauses the key through it
    // (no confirm while the broker is away), and a slow confirm after Resume must not pause it again.
    app = await startApp({
      databaseUrl: schema.databaseUrl,
      topics: `${orders}:ordered,${plain}`,
      env: { WHISPER_BUS: bus, WHISPER_PUBLISH_DEADLINE_MS: "15000" },
    });
  });

  afterAll(async () => {
    await app?.stop();
    await proxy?.close();
    await schema?.drop();
    await options.cleanup([orders, plain]);
  });

  const send = (events: Array<Record<string, unknown>>): RequestInit => ({
    method: "POST",
    headers: { "content-type": "application/cloudevents-batch+json" },
    body: JSON.stringify(events.map((e) => ({ specversion: "1.0", source: "/tests/bus", type: "test.event", ...e }))),
  });
  const history = async (topic: string): Promise<Array<{ id: string }>> =>
    (await (await app.api(`/api/messages?topic=${topic}&limit=200`)).json()).items;
  const sequenceOf = async (eventId: string): Promise<string | null> =>
    (await (await app.api(`/api/messages/${encodeURIComponent(eventId)}`)).json()).sequence;

  describe(`the dashboard on a ${options.name} bus`, () => {
    it("builds the topic URL the driver expects", () => {
      expect(topicUrl(bus, orders)).toBe(options.expectedTopicUrl(bus, orders));
    });

    it("records history (with the broker sequence where there is one), tails it live, and replays a stored message", async () => {
      const ids = Array.from({ length: 20 }, (_, i) => `${plain}-${i}`);
      const frames = await readFrames(
        app,
        `?topic=${plain}`,
        async () => {
          const response = await app.api(`/api/topics/${plain}/events`, send(ids.map((eventId, i) => ({ id: eventId, data: { i } }))));
          expect(response.status, await response.clone().text()).toBe(202);
        },
        (f) => f.flatMap((x) => x.messages).length >= ids.length,
      );
      expect(new Set(frames.flatMap((f) => f.messages.map((m) => m.id)))).toEqual(new Set(ids));
      const rows = await eventually(async () => {
        const items = await history(plain);
        return items.length >= ids.length ? items : undefined;
      }, `${ids.length} messages recorded on ${plain}`);
      expect(new Set(rows.map((r) => r.id))).toEqual(new Set(ids));
      if (options.sequence) {
        for (const row of rows) expect(await sequenceOf(row.id), row.id).toMatch(/^\d+$/);
      }
      const replayed = await app.api(`/api/messages/${ids[0]}/replay`, { method: "POST" });
      expect(replayed.status, await replayed.clone().text()).toBe(201);
      const replayId: string = (await replayed.json()).id;
      await eventually(async () => ((await history(plain)).some((r) => r.id === replayId) ? true : undefined), "the replay recorded");
    });

    it("stores a paused ordering key's messages on the board during an outage; Resume resends them in order", async () => {
      proxy.refuse();
      proxy.cut();
      const stalledIds = [1, 2, 3].map((i) => `${orders}-${i}`);
      const failed = await app.api(`/api/topics/${orders}/events`, send(stalledIds.map((eventId) => ({ id: eventId, orderingkey: "customer-1" }))));
      expect(((await failed.json()).results as Array<{ status: string }>).map((r) => r.status)).toEqual(["failed", "failed", "failed"]);
      const board = (await (await app.api(`/api/ordering?topic=${orders}`)).json()).stalled;
      expect(board).toHaveLength(1);
      expect(board[0].messages.map((m: { id: string }) => m.id)).toEqual(stalledIds);
      const before = proxy.connections;
      proxy.accept();
      await eventually(async () => (proxy.connections > before ? true : undefined), "the app to reconnect");

      const frames = await readFrames(
        app,
        `?topic=${orders}`,
        async () => {
          const resumed = await app.api(`/api/ordering/${board[0].id}/resume`, { method: "POST" });
          expect(resumed.status, await resumed.clone().text()).toBe(200);
        },
        (f) => f.flatMap((x) => x.messages).length >= stalledIds.length,
      );
      expect(frames.flatMap((f) => f.messages.map((m) => m.id))).toEqual(stalledIds);
      const rows = await eventually(async () => {
        const items = await history(orders);
        return items.length >= stalledIds.length ? items : undefined;
      }, "the resumed messages recorded");
      expect(new Set(rows.map((r) => r.id))).toEqual(new Set(stalledIds));
      if (options.sequence) {
        // The broker's sequence follows the resend order.
        const sequences = await Promise.all(stalledIds.map(async (eventId) => BigInt((await sequenceOf(eventId)) ?? -1)));
        expect([...sequences].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(sequences);
      }
      const next = await app.api(`/api/topics/${orders}/events`, send([{ id: `${orders}-4`, orderingkey: "customer-1" }]));
      const outcome = (await next.json()).results[0];
      expect(outcome.status, JSON.stringify(outcome)).toBe("published");
    });
  });
}
