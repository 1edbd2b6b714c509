import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collect } from "../conformance/suite";
import {
  createMessage,
  ErrorCode,
  newId,
  openSubscription,
  openTopic,
  subAck,
  type Subscription,
  type Topic,
} from "@whisper/core";
import { MANAGED_TAG } from "@/server/whisper/drivers/jetstream/streams";
import { LOCK_STREAM } from "@/server/whisper/drivers/jetstream/lock";

/**
 * Streams and topics (docs/drivers-nats.md) on the shared NATS 2.9 server: many topics on one stream, what
 * whisper may and may not change, and concurrent subject additions from two connections.
 */
const SERVER = "127.0.0.1:4222";
const base = (stream: string, subject: string, query = "") => `jetstream://${SERVER}/${subject}?stream=${stream}${query}`;

let nc: NatsConnection;
let jsm: JetStreamManager;
const streams: string[] = [];
const opened: Array<Topic | Subscription> = [];

/** A stream name nobody else uses, deleted after the file. */
function streamName(prefix: string): string {
  const name = `${prefix}_${newId()}`;
  streams.push(name);
  return name;
}
const track = <T extends Topic | Subscription>(o: T): T => (opened.push(o), o);
const subjectsOf = async (stream: string) => (await jsm.streams.info(stream)).config.subjects ?? [];

beforeAll(async () => {
  nc = await connect({ servers: SERVER });
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  for (const o of opened.reverse()) await o.close().catch(() => {});
  for (const stream of [...streams, LOCK_STREAM]) await jsm.streams.delete(stream).catch(() => {});
  await nc.close();
});

describe("jetstream:// streams and topics", () => {
  it("50 topics share one stream: each publishes and is received by its own durable consumer", async () => {
    const stream = streamName("MANY");
    const id = newId();
    const subjects = Array.from({ length: 50 }, (_, i) => `many.${id}.t${i}`);
    const half = subjects.length / 2;
    // One durable consumer per topic, as the recorder has (a durable name filters one subject).
    const durable = (i: number) => ({ name: `recorder-t${i}`, use: [subAck()] });

    // Half the subjects are added by opening a topic, half by opening a (durable) subscription, all at once.
    let started = performance.now();
    const [firstTopics, lastSubs] = await Promise.all([
      Promise.all(subjects.slice(0, half).map((s) => openTopic(base(stream, s)))),
      Promise.all(subjects.slice(half).map((s, i) => openSubscription(base(stream, s), durable(half + i)))),
    ]);
    const openMs = performance.now() - started;
    started = performance.now();
    const [lastTopics, firstSubs] = await Promise.all([
      Promise.all(subjects.slice(half).map((s) => openTopic(base(stream, s)))),
      Promise.all(subjects.slice(0, half).map((s, i) => openSubscription(base(stream, s), durable(i)))),
    ]);
    const reopenMs = performance.now() - started;
    const topics = [...firstTopics, ...lastTopics].map(track);
    const subs = [...firstSubs, ...lastSubs].map(track);
    console.log(`25 topics + 25 subscriptions adding 50 subjects: ${openMs.toFixed(0)} ms; 25 + 25 on stored subjects: ${reopenMs.toFixed(0)} ms`);

    const info = await jsm.streams.info(stream);
    expect(new Set(info.config.subjects)).toEqual(new Set(subjects));
    expect(info.config.description).toContain(MANAGED_TAG);

    await Promise.all(topics.map((t, i) => t.publish(createMessage({ data: subjects[i] })).get()));
    const received = await Promise.all(subs.map((s) => collect(s, 1)));
    expect(received.map(([m]) => m!.data)).toEqual(subjects);

    // Closing every topic and subscription leaves the stream, its subjects and its messages as they were.
    for (const o of [...topics, ...subs]) await o.close();
    const after = await jsm.streams.info(stream);
    expect(new Set(after.config.subjects)).toEqual(new Set(subjects));
    expect(after.state.messages).toBe(50);
  });

  it("20 concurrent additions from two connections lose no subject", async () => {
    const stream = streamName("RACE");
    const id = newId();
    track(await openTopic(base(stream, `race.${id}.first`))); // creates the stream: every addition below updates it
    const subjects = Array.from({ length: 20 }, (_, i) => `race.${id}.s${i}`);
    // Two tokens = two pooled connections (the server has no auth and accepts any), like two processes.
    const urls = subjects.map((s, i) => `jetstream://${i % 2 ? "one" : "two"}@${SERVER}/${s}?stream=${stream}`);
    const started = performance.now();
    const topics = (await Promise.all(urls.map((url) => openTopic(url)))).map(track);
    console.log(`20 concurrent subject additions from 2 connections: ${(performance.now() - started).toFixed(0)} ms`);
    expect(new Set(await subjectsOf(stream))).toEqual(new Set([`race.${id}.first`, ...subjects]));
    await Promise.all(topics.map((t) => t.publish(createMessage({ data: 1 })).get()));
    expect((await jsm.streams.info(stream)).state.messages).toBe(20);
  });

  it("a lock left by a process that died expires: the next addition waits for it, then proceeds", async () => {
    const stream = streamName("DEAD");
    const id = newId();
    track(await openTopic(base(stream, `dead.${id}.a`)));
    track(await openTopic(base(stream, `dead.${id}.b`))); // an addition: the lock stream exists from here on
    const held = await jetstream(nc).publish(`_whisper.lock.${stream}`, "a holder that died", {
      expect: { lastSubjectSequence: 0 },
    });
    expect(held.stream).toBe(LOCK_STREAM);
    track(await openTopic(base(stream, `dead.${id}.c`)));
    expect(await subjectsOf(stream)).toEqual([`dead.${id}.a`, `dead.${id}.b`, `dead.${id}.c`]);
  });

  it("a subject covered by a wildcard of the stream counts as stored", async () => {
    const stream = streamName("WILD");
    const id = newId();
    track(await openSubscription(base(stream, `wild.${id}.*`), { name: "all" }));
    track(await openTopic(base(stream, `wild.${id}.eu`)));
    track(await openSubscription(base(stream, `wild.${id}.us`), { name: "us" }));
    expect(await subjectsOf(stream)).toEqual([`wild.${id}.*`]);
    track(await openTopic(base(stream, `wild.${id}.eu.paris`))); // "*" is one token: not covered, so added
    expect(await subjectsOf(stream)).toEqual([`wild.${id}.*`, `wild.${id}.eu.paris`]);
  });

  it("never changes a stream whisper did not create: NotFoundError naming the stream, the subject and why", async () => {
    const stream = streamName("FOREIGN");
    const id = newId();
    await jsm.streams.add({ name: stream, subjects: [`foreign.${id}.*`] });
    track(await openTopic(base(stream, `foreign.${id}.stored`))); // stored by its wildcard: fine

    const subject = `elsewhere.${id}`;
    for (const open of [() => openTopic(base(stream, subject)), () => openSubscription(base(stream, subject))]) {
      const error = await open().then(
        () => undefined,
        (e: unknown) => e as Error & { code: string },
      );
      expect(error?.code).toBe(ErrorCode.NotFound);
      expect(error?.message).toContain(stream);
      expect(error?.message).toContain(subject);
      expect(error?.message).toMatch(/whisper did not create it/);
    }
    expect(await subjectsOf(stream)).toEqual([`foreign.${id}.*`]);
  });

  it("create=false: a missing stream, or a subject the stream lacks, is a NotFoundError and nothing changes", async () => {
    const missing = streamName("MISSING");
    await expect(openTopic(base(missing, `nope.${newId()}`, "&create=false"))).rejects.toMatchObject({
      code: ErrorCode.NotFound,
      message: expect.stringMatching(new RegExp(`${missing}.*create=false`)),
    });
    await expect(jsm.streams.info(missing)).rejects.toThrow();

    const stream = streamName("NOCREATE");
    const id = newId();
    track(await openTopic(base(stream, `nocreate.${id}.a`)));
    track(await openTopic(base(stream, `nocreate.${id}.a`, "&create=false"))); // stored: fine
    await expect(openSubscription(base(stream, `nocreate.${id}.b`, "&create=false"))).rejects.toMatchObject({
      code: ErrorCode.NotFound,
      message: expect.stringMatching(new RegExp(`nocreate\\.${id}\\.b in JetStream stream ${stream}.*create=false`)),
    });
    expect(await subjectsOf(stream)).toEqual([`nocreate.${id}.a`]);
  });

  it("a stream of an older whisper (no mark) is managed once its description carries the tag", async () => {
    const stream = streamName("OLDER");
    const id = newId();
    await jsm.streams.add({ name: stream, subjects: [`older.${id}.a`] }); // what whisper before the mark created
    await expect(openTopic(base(stream, `older.${id}.b`))).rejects.toMatchObject({ code: ErrorCode.NotFound });
    await jsm.streams.update(stream, { description: MANAGED_TAG }); // the documented opt-in
    const topic = track(await openTopic(base(stream, `older.${id}.b`)));
    await topic.publish(createMessage({ data: "b" })).get();
    expect(await subjectsOf(stream)).toEqual([`older.${id}.a`, `older.${id}.b`]);
  });

  it("a subject another stream stores is an InvalidUrlError naming that stream", async () => {
    const other = streamName("OTHER");
    const stream = streamName("MINE");
    const id = newId();
    await jsm.streams.add({ name: other, subjects: [`taken.${id}`] });
    track(await openTopic(base(stream, `mine.${id}`)));
    for (const target of [stream, streamName("FRESH")]) {
      await expect(openTopic(base(target, `taken.${id}`))).rejects.toMatchObject({
        code: ErrorCode.InvalidUrl,
        message: expect.stringContaining(`stored by JetStream stream ${other}`),
      });
    }
    expect(await subjectsOf(stream)).toEqual([`mine.${id}`]);
  });
});
