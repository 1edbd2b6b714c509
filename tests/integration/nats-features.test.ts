import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, describe, expect, it } from "vitest";
import { collect } from "../conformance/suite";
import { createMessage, newId, openSubscription, openTopic, subAck, type Subscription, type Topic } from "@/server/whisper";

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
    const sub = track(await openSubscription(`nats://${SERVER}/${base}.*`, { use: [subAck()] }));
    await new Promise((r) => setTimeout(r, 100)); // the SUB reaches the server
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
    await new Promise((r) => setTimeout(r, 50));
    const midway = new Date();
    await new Promise((r) => setTimeout(r, 50));
    for (const n of [4, 5]) await topic.publish(createMessage({ data: n }));

    const fromSequence = track(await openSubscription(url, { name: "from-seq", startAt: 3, use: [subAck()] }));
    expect((await collect(fromSequence, 3)).map((m) => m.data)).toEqual([3, 4, 5]);

    const fromTime = track(await openSubscription(url, { name: "from-time", startAt: midway, use: [subAck()] }));
    expect((await collect(fromTime, 2)).map((m) => m.data)).toEqual([4, 5]);
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
