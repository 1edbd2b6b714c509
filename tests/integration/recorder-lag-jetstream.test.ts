import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "@whisper/core";
import { BrokerInfo } from "@/server/runtime/broker-info";
import { deleteStreams } from "../support/jetstream";

/**
 * The lag sampler's broker figures on JetStream: topics that share a stream are served by one consumer listing
 * of that stream per sample (counted on the JetStream API subjects), and each topic still gets its own
 * consumers' figures (pending, unacked), plus those of a consumer that filters nothing.
 */

const SERVER = process.env.WHISPER_TEST_NATS ?? "127.0.0.1:4222";
const id = newId().slice(-8).toLowerCase();
const STREAM = `RECPERF_LAG_${id}`;
const [A, B, C] = ["a", "b", "c"].map((t) => `recperf.lag.${id}.${t}`) as [string, string, string];

describe("broker figures of the recorder's consumers on JetStream", () => {
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await connect({ servers: SERVER });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: STREAM, subjects: [`recperf.lag.${id}.>`] });
    for (const [name, filter] of [["rec-a", A], ["rec-b", B], ["rec-c", C], ["other-a", A]] as const) {
      await jsm.consumers.add(STREAM, { durable_name: name, filter_subject: filter, ack_policy: AckPolicy.Explicit });
    }
    await jsm.consumers.add(STREAM, { durable_name: "everything", ack_policy: AckPolicy.Explicit });
    const js = jetstream(nc);
    for (let i = 0; i < 3; i++) await js.publish(A, `a${i}`);
    for (let i = 0; i < 5; i++) await js.publish(B, `b${i}`);
    // rec-a takes two of A's three and acks neither.
    const batch = await (await js.consumers.get(STREAM, "rec-a")).fetch({ max_messages: 2, expires: 2000 });
    let taken = 0;
    for await (const m of batch) if (m && ++taken === 2) break;
    expect(taken).toBe(2);
  });

  afterAll(async () => {
    await nc?.close();
    await deleteStreams(SERVER, [STREAM]);
  });

  async function sample(info: BrokerInfo) {
    const requests = { list: 0, lookup: 0 };
    const list = nc.subscribe(`$JS.API.CONSUMER.LIST.${STREAM}`, { callback: () => void requests.list++ });
    const lookup = nc.subscribe("$JS.API.STREAM.NAMES", { callback: () => void requests.lookup++ });
    await nc.flush();
    const figures = await info.figures([A, B, C], (t) => `fallback-${t}`);
    await nc.flush();
    list.unsubscribe();
    lookup.unsubscribe();
    return { figures, requests };
  }

  for (const configured of [true, false]) {
    it(`${configured ? "?stream= given" : "stream looked up"}: one listing per stream per sample, each topic its own figures`, async () => {
      const info = new BrokerInfo(`jetstream://${SERVER}/${A}${configured ? `?stream=${STREAM}` : ""}`);
      try {
        const first = await sample(info);
        const figure = (topic: string, name: string) => first.figures.find((f) => f.topic === topic && f.name === name);
        expect(figure(A, "rec-a")).toMatchObject({ pending: 1, ackPending: 2 });
        expect(figure(A, "other-a")).toMatchObject({ pending: 3, ackPending: 0 });
        expect(figure(B, "rec-b")).toMatchObject({ pending: 5, ackPending: 0 });
        expect(figure(C, "rec-c")).toMatchObject({ pending: 0, ackPending: 0 });
        // The consumer that filters nothing counts for every topic of the stream.
        for (const topic of [A, B, C]) expect(figure(topic, "everything")).toMatchObject({ pending: 8 });
        expect(first.figures.map((f) => f.topic)).toEqual([A, A, A, B, B, C, C]);
        expect(first.figures.some((f) => f.topic === B && f.name.endsWith("-a"))).toBe(false);
        expect(first.requests.list).toBe(1);
        expect(first.requests.lookup).toBe(configured ? 0 : 3);
        // The next sample: still one listing, and the streams are remembered.
        const second = await sample(info);
        expect(second.requests).toEqual({ list: 1, lookup: 0 });
        expect(second.figures).toEqual(first.figures);
      } finally {
        await info.close();
      }
    });
  }
});
