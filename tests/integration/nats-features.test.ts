import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, describe, expect, it } from "vitest";
import { collect } from "../conformance/suite";
import {
  createMessage,
  newId,
  openSubscription,
  openTopic,
  pubAck,
  subAck,
  type Subscription,
  type Topic,
} from "@whisper/core";
import { waitFor } from "../support/wait";

const SERVER = "127.0.0.1:4222";

/** Driver features the conformance suite does not cover, against the shared server. */
describe("nats:// and jetstream:// features", () => {
  const opened: Array<Topic | Subscription> = [];
  const streams: string[] = [];
  afterAll(async () => {
    for (const o of opened.reverse()) await o.close().catch(() => {});
    const nc = await connect({ servers: SERVER });
    const jsm = await jetstreamManager(nc);
    for (const stream of streams) await jsm.streams.delete(stream).catch(() => {});
    await nc.close();
  });
  const track = <T extends Topic | Subscription>(o: T): T => (opened.push(o), o);

  it("a wildcard subscription receives from every matching subject, each message naming its subject", async () => {
    const base = `wild.${newId()}`;
    // openSubscription resolves after a flush round trip: the server has the SUB before anything is published.
    const sub = track(await openSubscription(`nats://${SERVER}/${base}.*`, { use: [subAck()] }));
    const a = track(await openTopic(`nats://${SERVER}/${base}.a`));
    const b = track(await openTopic(`nats://${SERVER}/${base}.b`));
    const receiving = collect(sub, 2);
    await a.publish(createMessage({ data: "from a" }));
    await b.publish(createMessage({ data: "from b" }));
    const received = await receiving;
    expect(received.map((m) => m.data).sort()).toEqual(["from a", "from b"]);
  });

  it("startAt replays a stream from a sequence or from a time", async () => {
    const stream = `FEATURES_${newId()}`;
    streams.push(stream);
    const subject = `features.${newId()}`;
    const url = `jetstream://${SERVER}/${subject}?stream=${stream}`;
    const topic = track(await openTopic(url));
    for (const n of [1, 2, 3]) await topic.publish(createMessage({ data: n }));
    // The stream stamped 1–3 before their acks came back; `midway` is a later millisecond, and 4–5 are
    // published only once the clock (the server's, on this machine) has passed it.
    const midway = new Date(Date.now() + 1);
    await waitFor(() => Date.now() > midway.getTime(), { what: "the clock passing midway" });
    for (const n of [4, 5]) await topic.publish(createMessage({ data: n }));

    const fromSequence = track(await openSubscription(url, { name: "from-seq", startAt: 3, use: [subAck()] }));
    expect((await collect(fromSequence, 3)).map((m) => m.data)).toEqual([3, 4, 5]);

    const fromTime = track(await openSubscription(url, { name: "from-time", startAt: midway, use: [subAck()] }));
    expect((await collect(fromTime, 2)).map((m) => m.data)).toEqual([4, 5]);
  });

  it("a core NATS subscription is live once openSubscription resolves: a raw client's publish right after arrives", async () => {
    const subject = `live.${newId()}`;
    const sub = track(await openSubscription(`nats://${SERVER}/${subject}`));
    const nc = await connect({ servers: SERVER });
    try {
      nc.publish(subject, "right after open");
      await nc.flush();
      const [got] = await collect(sub, 1);
      expect(Buffer.from(got!.data as Uint8Array).toString()).toBe("right after open");
    } finally {
      await nc.close();
    }
  });

  it("JetStream deliveries carry the stream sequence as message.sequence", async () => {
    const stream = `SEQUENCE_${newId()}`;
    streams.push(stream);
    const url = `jetstream://${SERVER}/sequence.${newId()}?stream=${stream}`;
    const topic = track(await openTopic(url));
    for (const n of [1, 2, 3]) await topic.publish(createMessage({ data: n }));
    const sub = track(await openSubscription(url, { name: "sequenced", startAt: 2, use: [subAck()] }));
    const received = await collect(sub, 2);
    expect(received.map((m) => [m.data, m.sequence])).toEqual([
      [2, 2],
      [3, 3],
    ]);
    // Core NATS has no sequence.
    const plainUrl = `nats://${SERVER}/sequence.none.${newId()}`;
    const plainSub = track(await openSubscription(plainUrl));
    const plainTopic = track(await openTopic(plainUrl, { use: [pubAck()] }));
    const receiving = collect(plainSub, 1);
    await plainTopic.publish(createMessage({ data: "no sequence" }));
    expect((await receiving)[0]!.sequence).toBeUndefined();
  });

  it("a named consumer resumes where it stopped after the subscription is reopened", async () => {
    const stream = `RESUME_${newId()}`;
    streams.push(stream);
    const url = `jetstream://${SERVER}/resume.${newId()}?stream=${stream}`;
    const topic = track(await openTopic(url));
    const first = await openSubscription(url, { name: "worker", use: [subAck()] });
    for (const n of [1, 2]) await topic.publish(createMessage({ data: n }));
    expect((await collect(first, 2)).map((m) => m.data)).toEqual([1, 2]);
    await first.close();
    for (const n of [3, 4]) await topic.publish(createMessage({ data: n }));
    const again = track(await openSubscription(url, { name: "worker", use: [subAck()] }));
    expect((await collect(again, 2)).map((m) => m.data)).toEqual([3, 4]);
  });
});
