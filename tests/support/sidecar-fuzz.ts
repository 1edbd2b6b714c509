import * as grpc from "@grpc/grpc-js";
import { prng } from "./fuzz";
import { jsonEvent, type SidecarClient, type WireEvent } from "./sidecar-client";

/**
 * Generated bad gRPC requests for the sidecar, each with the status it must get: INVALID_ARGUMENT naming the
 * field (BadRequest), UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, RESOURCE_EXHAUSTED (size and count
 * limits), FAILED_PRECONDITION (an ordering key on a topic without ordering). Deterministic (seeded), so a
 * failing case is reproducible from its name.
 */
export interface BadCall {
  name: string;
  method: "Publish" | "PublishBatch" | "Resume" | "PausedKeys" | "ListTopics";
  request: unknown;
  /** undefined = the client's token; null = no authorization metadata; a string = that metadata value. */
  authorization?: string | null;
  code: grpc.status;
  /** The BadRequest's first field, for INVALID_ARGUMENT. */
  field?: string;
}

export interface FuzzTopics {
  /** A managed topic without ordering. */
  plain: string;
  /** A managed topic with ordering. */
  ordered: string;
  viewerToken: string;
  /** WHISPER_MAX_EVENT_BYTES of the server. */
  maxEventBytes: number;
}

const BAD_TOPICS = ["", "has space", "wild.*", "tail.>", "a..b", ".lead", "x".repeat(201), "slash/topic", "ünï"];
const BAD_NAMES = ["Upper", "with-dash", "under_score", "dot.ted", "sp ace", ""];

export function badCalls(count: number, seed: number, t: FuzzTopics): BadCall[] {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const n = () => Math.floor(random() * 1e6);
  const event = (): WireEvent => jsonEvent(`fz-${n()}`, { n: n() });
  const generators: Array<(i: number) => BadCall> = [
    (i) => ({ name: `bad topic ${i}`, method: "Publish", request: { topic: pick(BAD_TOPICS), event: event() }, code: grpc.status.INVALID_ARGUMENT, field: "topic" }),
    (i) => ({ name: `unknown topic ${i}`, method: "Publish", request: { topic: `nope.${n()}`, event: event() }, code: grpc.status.NOT_FOUND }),
    (i) => ({ name: `no event ${i}`, method: "Publish", request: { topic: t.plain }, code: grpc.status.INVALID_ARGUMENT, field: "event" }),
    (i) => {
      const field = pick(["id", "source", "type"] as const);
      return { name: `empty ${field} ${i}`, method: "Publish", request: { topic: t.plain, event: { ...event(), [field]: "" } }, code: grpc.status.INVALID_ARGUMENT, field: `event.${field}` };
    },
    (i) => ({ name: `spec version ${i}`, method: "Publish", request: { topic: t.plain, event: { ...event(), specVersion: pick(["", "0.3", "2.0", "1"]) } }, code: grpc.status.INVALID_ARGUMENT, field: "event.spec_version" }),
    (i) => {
      const name = pick(BAD_NAMES);
      const e = event();
      return { name: `attribute name ${JSON.stringify(name)} ${i}`, method: "Publish", request: { topic: t.plain, event: { ...e, attributes: { ...e.attributes, [name]: { ceString: "x" } } } }, code: grpc.status.INVALID_ARGUMENT, field: `event.attributes[${JSON.stringify(name)}]` };
    },
    (i) => {
      const e = event();
      return { name: `attribute without value ${i}`, method: "Publish", request: { topic: t.plain, event: { ...e, attributes: { ...e.attributes, ext: {} } } }, code: grpc.status.INVALID_ARGUMENT, field: 'event.attributes["ext"]' };
    },
    (i) => {
      const e = event();
      const time = pick([{ ceString: "yesterday" }, { ceString: "2026-13-01T00:00:00Z" }, { ceInteger: 5 }, { ceTimestamp: { seconds: -99999999999, nanos: 0 } }, { ceTimestamp: { seconds: 1, nanos: 2e9 } }]);
      return { name: `bad time ${JSON.stringify(time)} ${i}`, method: "Publish", request: { topic: t.plain, event: { ...e, attributes: { ...e.attributes, time } } }, code: grpc.status.INVALID_ARGUMENT, field: 'event.attributes["time"]' };
    },
    (i) => ({ name: `id with NUL ${i}`, method: "Publish", request: { topic: t.plain, event: { ...event(), id: `a\u0000${n()}` } }, code: grpc.status.INVALID_ARGUMENT, field: "event.id" }),
    (i) => ({ name: `id over 1024 bytes ${i}`, method: "Publish", request: { topic: t.plain, event: { ...event(), id: "é".repeat(513 + (n() % 100)) } }, code: grpc.status.INVALID_ARGUMENT, field: "event.id" }),
    (i) => ({ name: `invalid JSON data ${i}`, method: "Publish", request: { topic: t.plain, event: { ...event(), textData: pick(["{", "[1,", "nope", '{"a":}']) } }, code: grpc.status.INVALID_ARGUMENT, field: "event.text_data" }),
    (i) => {
      const e = event();
      delete e.textData;
      return { name: `proto data ${i}`, method: "Publish", request: { topic: t.plain, event: { ...e, protoData: { typeUrl: "type.googleapis.com/x.Y", value: Buffer.from([8, 1]) } } }, code: grpc.status.INVALID_ARGUMENT, field: "event.proto_data" };
    },
    (i) => ({ name: `event over the size limit ${i}`, method: "Publish", request: { topic: t.plain, event: jsonEvent(`big-${n()}`, "x".repeat(t.maxEventBytes + (n() % 1000))) }, code: grpc.status.RESOURCE_EXHAUSTED }),
    (i) => ({ name: `empty batch ${i}`, method: "PublishBatch", request: { topic: t.plain, events: [] }, code: grpc.status.INVALID_ARGUMENT, field: "events" }),
    (i) => ({ name: `batch over 1000 events ${i}`, method: "PublishBatch", request: { topic: t.plain, events: Array.from({ length: 1001 }, (_, k) => jsonEvent(`b${k}`, k)) }, code: grpc.status.RESOURCE_EXHAUSTED }),
    (i) => {
      const bad = 1 + (n() % 5);
      const events = Array.from({ length: 6 }, (_, k) => (k === bad ? { ...jsonEvent(`b${k}`, k), type: "" } : jsonEvent(`b${k}-${n()}`, k)));
      return { name: `batch with a bad event ${i}`, method: "PublishBatch", request: { topic: t.plain, events }, code: grpc.status.INVALID_ARGUMENT, field: `events[${bad}].type` };
    },
    (i) => ({ name: `no token ${i}`, method: pick(["Publish", "ListTopics", "PausedKeys"] as const), request: { topic: t.plain, event: event() }, authorization: null, code: grpc.status.UNAUTHENTICATED }),
    (i) => ({ name: `wrong token ${i}`, method: "ListTopics", request: {}, authorization: pick([`Bearer wrong-${n()}`, "Basic abc", "Bearer", `bearer  ${n()} x`]), code: grpc.status.UNAUTHENTICATED }),
    (i) => ({ name: `viewer publishes ${i}`, method: pick(["Publish", "Resume"] as const), request: { topic: t.ordered, event: event(), orderingKey: "k" }, authorization: `Bearer ${t.viewerToken}`, code: grpc.status.PERMISSION_DENIED }),
    (i) => ({ name: `resume without key ${i}`, method: "Resume", request: { topic: t.ordered, orderingKey: "" }, code: grpc.status.INVALID_ARGUMENT, field: "ordering_key" }),
    (i) => ({ name: `resume a key not paused ${i}`, method: "Resume", request: { topic: t.ordered, orderingKey: `k${n()}` }, code: grpc.status.NOT_FOUND }),
    (i) => ({ name: `paused keys of unknown topic ${i}`, method: "PausedKeys", request: { topic: `nope${n()}` }, code: grpc.status.NOT_FOUND }),
    (i) => ({ name: `ordering key on an unordered topic ${i}`, method: "Publish", request: { topic: t.plain, event: jsonEvent(`ok-${n()}`, 1, "key") }, code: grpc.status.FAILED_PRECONDITION }),
  ];
  return Array.from({ length: count }, (_, i) => generators[i % generators.length]!(i));
}

/** Sends a bad call; the status it got, with its decoded details. */
export async function send(client: SidecarClient, call: BadCall): Promise<grpc.ServiceError> {
  const metadata = new grpc.Metadata();
  if (call.authorization === undefined) metadata.set("authorization", `Bearer ${client.token}`);
  else if (call.authorization !== null) metadata.set("authorization", call.authorization);
  return client.fail(call.method, call.request, metadata);
}

/** A raw call with arbitrary request bytes (not a valid protobuf message), to a method path. */
export function rawCall(address: string, path: string, body: Buffer, token: string): Promise<grpc.ServiceError | undefined> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${token}`);
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, body, metadata, (error) => {
      client.close();
      resolve(error ?? undefined);
    });
  });
}
