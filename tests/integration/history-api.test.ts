import { jetstream } from "@nats-io/jetstream";
import { connect, headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { wire } from "@whisper/core";
import { eventually, startOnJetStream, type RunningApp, type TestSchema } from "../support/app";
import { deleteStreams } from "../support/jetstream";

/**
 * History through the dashboard on JetStream, end to end:
 * - 1,000 events over 10 keys in one batch request browse per key in publish order across pages;
 * - nothing is answered "published" that history cannot hold: a fuzz of 200 events with hostile attributes
 *   through the API (each accepted one is in history with identical attributes and data bytes, each refused
 *   one got a 400 naming its field) and 200 through a raw NATS client (each is recorded, escaped where it had
 *   to be, with `recorderror`, and counted in the metrics);
 * - every stored id, up to the documented 1,024 bytes, opens with GET /api/messages/{id}.
 */

const NATS = "127.0.0.1:4222";
const stamp = Date.now().toString(36);
const stream = `HAPI_${stamp.toUpperCase()}`;
const topic = `hapi-${stamp}`;
const MAX_ID_BYTES = 1024; // docs/dashboard-contract.md; deliberately not imported: the test states the contract
const TIME = "2026-03-04T05:06:07.089Z";
let schema: TestSchema;
let app: RunningApp;
let db: pg.Pool;
let nc: NatsConnection;

beforeAll(async () => {
  ({ schema, app } = await startOnJetStream("hist_api", { nats: NATS, stream, topics: `${topic}:ordered` }));
  db = new pg.Pool({ connectionString: schema.databaseUrl.replace(/\?schema=.*/, ""), options: `-c search_path=${schema.name}`, max: 2 });
  nc = await connect({ servers: NATS });
});

afterAll(async () => {
  await app?.stop();
  await db?.end();
  await schema?.drop();
  await nc?.close();
  await deleteStreams(NATS, [stream]);
});

async function rowCount(): Promise<number> {
  const { rows } = await db.query<{ n: string }>("SELECT count(*) AS n FROM messages WHERE topic = $1", [topic]);
  return Number(rows[0]!.n);
}

async function detail(id: string): Promise<Response> {
  return app.api(`/api/messages/${encodeURIComponent(id)}`);
}

// ---- a small deterministic generator ------------------------------------------------------------------
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const random = prng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

/** Values history stores as they are. */
const CLEAN = [
  "plain",
  "ünïcödé ✓ 日本語",
  "emoji 😀👍🏽",
  "tab\there",
  "line\nbreak\r\n",
  "back\\slash \\u0000 literally",
  "quote \" ' `",
  "percent %41 %% %",
  "  padded  ",
  "'; DROP TABLE messages; --",
  "\u2028\u2029",
  "\ufeffbom",
  "ctrl \u0001\u001f\u007f",
  "<script>alert(1)</script>",
  "x".repeat(3000), // long, but not a key
];
/** Why a value cannot be stored; `structuredOnly`: cannot travel in an HTTP/NATS header (no UTF-8 form). */
const HOSTILE = [
  { value: "nul\u0000inside", structuredOnly: false },
  { value: "\u0000", structuredOnly: false },
  { value: "lone \ud800 high", structuredOnly: true },
  { value: "lone \udc00 low", structuredOnly: true },
];

type Ext = Record<string, string | number | boolean>;
interface FuzzEvent {
  id: string;
  source: string;
  type: string;
  subject?: string;
  extensions: Ext;
  data: { kind: "json"; value: unknown } | { kind: "text"; value: string } | { kind: "bytes"; value: Uint8Array };
  /** The fields history cannot hold (what a 400 must name); empty when the event is storable. */
  bad: string[];
}

/** A key value of `bytes` UTF-8 bytes, unique by `n`. */
const keyOfBytes = (n: number, bytes: number) => `${n}-`.padEnd(bytes, "k");

function fuzzEvent(n: number, binary: boolean): FuzzEvent {
  const event: FuzzEvent = {
    id: `fz-${stamp}-${n}`,
    source: `/fuzz/${n}`,
    type: "fuzz.event",
    extensions: {},
    data: { kind: "json", value: { n } },
    bad: [],
  };
  const hostile = () => pick(HOSTILE.filter((h) => !binary || !h.structuredOnly)).value;
  const fields = ["id", "source", "type", "subject", "tenant", "orderingkey", "data"] as const;
  for (let k = 0; k < 2; k++) {
    const field = pick(fields);
    const roll = random();
    event.bad = event.bad.filter((f) => f !== field); // a field drawn twice keeps its last value
    let value: string;
    if (field === "data") {
      const kind = pick(["json", "text", "bytes"] as const);
      if (kind === "bytes") event.data = { kind, value: Uint8Array.from({ length: 64 }, () => Math.floor(random() * 256)) };
      else if (kind === "json") event.data = { kind, value: { n, s: roll < 0.5 ? pick(CLEAN) : hostile() } };
      else if (roll < 0.3 && !binary) {
        event.data = { kind, value: `text ${pick(HOSTILE.filter((h) => h.structuredOnly)).value}` };
        event.bad.push("data");
      } else event.data = { kind, value: `text ${roll < 0.6 ? "with NUL \u0000 is fine as data" : pick(CLEAN)}` };
      continue;
    }
    const keyed = field === "id" || field === "type" || field === "orderingkey";
    if (roll < 0.45) value = pick(keyed ? CLEAN.filter((v) => v.length < 100) : CLEAN);
    else if (roll < 0.7 && keyed) value = keyOfBytes(n, MAX_ID_BYTES); // at the limit: fine
    else if (roll < 0.7) value = pick(CLEAN);
    else if (roll < 0.8 && keyed) {
      value = keyOfBytes(n, MAX_ID_BYTES + 1 + Math.floor(random() * 3000));
      event.bad.push(field);
    } else {
      value = hostile();
      event.bad.push(field);
    }
    if (field === "id") event.id = value.startsWith(`${n}-`) ? value : `${value}-${stamp}-${n}`;
    else if (field === "source") event.source = value;
    else if (field === "type") event.type = value;
    else if (field === "subject") event.subject = value;
    else event.extensions[field] = value;
  }
  return event;
}

function structured(e: FuzzEvent): Record<string, unknown> {
  const out: Record<string, unknown> = { specversion: "1.0", id: e.id, source: e.source, type: e.type, time: TIME, ...e.extensions };
  if (e.subject !== undefined) out.subject = e.subject;
  if (e.data.kind === "bytes") Object.assign(out, { datacontenttype: "application/octet-stream", data_base64: Buffer.from(e.data.value).toString("base64") });
  else if (e.data.kind === "text") Object.assign(out, { datacontenttype: "text/plain; charset=utf-8", data: e.data.value });
  else Object.assign(out, { datacontenttype: "application/json", data: e.data.value });
  return out;
}

function binaryRequest(e: FuzzEvent): { headers: Record<string, string>; body: Buffer } {
  const headers: Record<string, string> = {
    "ce-specversion": "1.0",
    "ce-id": wire.encodeHeaderValue(e.id),
    "ce-source": wire.encodeHeaderValue(e.source),
    "ce-type": wire.encodeHeaderValue(e.type),
    "ce-time": TIME,
  };
  if (e.subject !== undefined) headers["ce-subject"] = wire.encodeHeaderValue(e.subject);
  for (const [k, v] of Object.entries(e.extensions)) headers[`ce-${k}`] = wire.encodeHeaderValue(String(v));
  let body: Buffer;
  if (e.data.kind === "bytes") [headers["content-type"], body] = ["application/octet-stream", Buffer.from(e.data.value)];
  else if (e.data.kind === "text") [headers["content-type"], body] = ["text/plain; charset=utf-8", Buffer.from(e.data.value)];
  else [headers["content-type"], body] = ["application/json", Buffer.from(JSON.stringify(e.data.value))];
  return { headers, body };
}

/** Where a 400 names `field` of event `index` in `mode`. */
function pathOf(mode: "binary" | "structured" | "batch", index: number, field: string): string {
  if (mode === "binary") return field === "data" ? "body" : `header ce-${field}`;
  return mode === "structured" ? `body.${field}` : `body[${index}].${field}`;
}

/** The stored detail equals what was sent: every attribute, every extension, the data's bytes. */
async function expectStoredAsSent(e: FuzzEvent, binary: boolean): Promise<void> {
  const response = await detail(e.id);
  expect(response.status, e.id.slice(0, 80)).toBe(200);
  const stored = await response.json();
  expect(stored).toMatchObject({ id: e.id, source: e.source, type: e.type, subject: e.subject ?? null, time: TIME, topic });
  expect(stored.extensions).toEqual(e.extensions);
  expect(stored.orderingKey).toBe((e.extensions.orderingkey as string | undefined) ?? null);
  const sentBytes =
    e.data.kind === "bytes"
      ? Buffer.from(e.data.value)
      : Buffer.from(e.data.kind === "text" ? e.data.value : JSON.stringify(e.data.value), "utf8");
  const storedBytes = stored.data.encoding === "base64" ? Buffer.from(stored.data.value, "base64") : Buffer.from(stored.data.value, "utf8");
  expect(storedBytes.equals(sentBytes), `data of ${e.id.slice(0, 80)} (${binary ? "binary" : "structured"})`).toBe(true);
}

async function post(init: RequestInit): Promise<Response> {
  return app.api(`/api/topics/${topic}/events`, init);
}

describe("history through the API on JetStream", () => {
  it("browses 1,000 events over 10 keys, published in one batch request, per key in publish order across pages", async () => {
    const events = Array.from({ length: 1000 }, (_, i) => ({
      specversion: "1.0",
      id: `ord-${stamp}-${String(i).padStart(4, "0")}`,
      source: "/order",
      type: "order.step",
      orderingkey: `order-k${(i * 3) % 10}`,
      data: { i },
    }));
    const response = await post({ method: "POST", headers: { "content-type": "application/cloudevents-batch+json" }, body: JSON.stringify(events) });
    expect(response.status).toBe(202);
    const { results } = await response.json();
    expect(results.every((r: { status: string }) => r.status === "published")).toBe(true);
    await eventually(async () => ((await rowCount()) >= 1000 ? true : undefined), "1,000 rows", 60_000);
    for (let k = 0; k < 10; k++) {
      const key = `order-k${k}`;
      const browsed: string[] = [];
      let cursor = "";
      do {
        const page = await (await app.api(`/api/messages?topic=${topic}&orderingKey=${key}&limit=37${cursor && `&cursor=${cursor}`}`)).json();
        browsed.push(...page.items.map((m: { id: string }) => m.id));
        cursor = page.nextCursor ?? "";
      } while (cursor);
      expect(browsed.reverse(), key).toEqual(events.filter((e) => e.orderingkey === key).map((e) => e.id));
    }
  });

  it("fuzz: accepts and stores verbatim what history can hold, refuses the rest with a 400 naming the field; records raw traffic, escaped", async () => {
    const before = await rowCount();
    const counts = { apiAccepted: 0, apiRefused: 0, rawRecorded: 0, rawEscaped: 0 };
    const accepted: Array<{ event: FuzzEvent; binary: boolean }> = [];

    // 200 through the API: 60 binary, 60 structured, 80 in batches of 5.
    let n = 0;
    for (let i = 0; i < 60; i++) {
      const e = fuzzEvent(n++, true);
      const { headers, body } = binaryRequest(e);
      const response = await post({ method: "POST", headers, body: new Uint8Array(body) });
      await expectOutcome(response, [e], "binary");
    }
    for (let i = 0; i < 60; i++) {
      const e = fuzzEvent(n++, false);
      const response = await post({ method: "POST", headers: { "content-type": "application/cloudevents+json" }, body: JSON.stringify(structured(e)) });
      await expectOutcome(response, [e], "structured");
    }
    for (let i = 0; i < 16; i++) {
      const batch = Array.from({ length: 5 }, () => fuzzEvent(n++, false));
      const response = await post({ method: "POST", headers: { "content-type": "application/cloudevents-batch+json" }, body: JSON.stringify(batch.map(structured)) });
      await expectOutcome(response, batch, "batch");
    }

    async function expectOutcome(response: Response, events: FuzzEvent[], mode: "binary" | "structured" | "batch"): Promise<void> {
      const bad = events.some((e) => e.bad.length > 0);
      if (!bad) {
        expect(response.status, JSON.stringify(await response.clone().text()).slice(0, 300)).toBe(202);
        const { results } = await response.json();
        expect(results.map((r: { status: string }) => r.status)).toEqual(events.map(() => "published"));
        counts.apiAccepted += events.length;
        for (const event of events) accepted.push({ event, binary: mode === "binary" });
        return;
      }
      expect(response.status, `${mode}: ${JSON.stringify(events.map((e) => [e.bad, e.id.slice(0, 40), e.extensions, e.subject?.slice(0, 40)]))}`).toBe(400);
      const problem = await response.json();
      const paths = (problem.errors ?? []).map((e: { path: string }) => e.path);
      events.forEach((e, index) => {
        for (const field of e.bad) expect(paths, `${mode} ${field}`).toContain(pathOf(mode, index, field));
      });
      counts.apiRefused += events.length;
    }

    // 200 through a raw NATS client, straight into the stream: binary-mode headers (NUL as %00, keys past the
    // limit), structured JSON (NUL, unpaired surrogates), and plain payloads that are no CloudEvent at all.
    const js = jetstream(nc);
    // Each raw event carries the extension `fuzzmark` to find its row, whatever was escaped.
    const raw: Array<{ mark: string; id: string; unstorable: boolean; event?: FuzzEvent }> = [];
    for (let i = 0; i < 200; i++) {
      const e = fuzzEvent(n++, i % 2 === 0);
      const mark = `${stamp}x${i}`;
      if (i % 10 === 9) {
        // Plain payload: recorded with its Nats-Msg-Id as id and the server as source.
        const h = natsHeaders();
        h.set("Nats-Msg-Id", `plain-${stamp}-${i}`);
        await js.publish(`${topic}`, Buffer.from(`plain ${i}`), { headers: h });
        raw.push({ mark: "", id: `plain-${stamp}-${i}`, unstorable: false });
        continue;
      }
      e.extensions.fuzzmark = mark;
      if (i % 2 === 0) {
        const { headers, body } = binaryRequest(e);
        const h = natsHeaders();
        for (const [k, v] of Object.entries(headers)) h.set(k, v);
        await js.publish(`${topic}`, body, { headers: h });
      } else {
        const h = natsHeaders();
        h.set("content-type", "application/cloudevents+json");
        await js.publish(`${topic}`, Buffer.from(JSON.stringify(structured(e))), { headers: h });
      }
      raw.push({ mark, id: e.id, unstorable: e.bad.length > 0, event: e });
    }

    const expected = before + counts.apiAccepted + raw.length;
    await eventually(async () => ((await rowCount()) === expected ? true : undefined), `${expected} rows`, 60_000);
    expect(await rowCount()).toBe(expected);

    // Every accepted event is in history exactly as sent.
    for (const { event, binary } of accepted) await expectStoredAsSent(event, binary);

    // Every raw one is recorded; what history could not hold is escaped and says so.
    for (const r of raw) {
      const { rows } = r.mark
        ? await db.query<{ id: string; extensions: Record<string, unknown> }>("SELECT id, extensions FROM messages WHERE extensions->>'fuzzmark' = $1", [r.mark])
        : await db.query<{ id: string; extensions: Record<string, unknown> }>("SELECT id, extensions FROM messages WHERE id = $1", [r.id]);
      expect(rows, r.mark || r.id).toHaveLength(1);
      const row = rows[0]!;
      counts.rawRecorded++;
      if (r.unstorable) {
        counts.rawEscaped++;
        expect(String(row.extensions.recorderror), `${JSON.stringify(r.event).slice(0, 300)}`).toMatch(/^stored with changes: /);
        expect(row.id).not.toMatch(/\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
        expect(Buffer.byteLength(row.id)).toBeLessThanOrEqual(MAX_ID_BYTES);
      } else {
        expect(row.extensions.recorderror, r.mark || r.id).toBeUndefined();
        expect(row.id).toBe(r.id);
      }
      // Every stored id opens, escaped and shortened ones included.
      expect((await detail(row.id)).status, row.id.slice(0, 80)).toBe(200);
    }
    const metrics = await (await app.api("/api/metrics")).text();
    const escaped = new RegExp(`whisper_recorder_escaped_total\\{topic="${topic}"\\} (\\d+)`).exec(metrics);
    expect(Number(escaped?.[1])).toBe(counts.rawEscaped);

    console.log(`fuzz (seed ${SEED}): ${JSON.stringify(counts)}`);
    expect(counts.apiAccepted + counts.apiRefused).toBe(200);
    expect(counts.rawRecorded).toBe(200);
    expect(counts.apiAccepted).toBeGreaterThan(20);
    expect(counts.apiRefused).toBeGreaterThan(20);
    expect(counts.rawEscaped).toBeGreaterThan(20);
  });

  it("opens every id the events route accepts, up to 1,024 bytes, and refuses longer ones with a 400", async () => {
    const atLimit = `${"€".repeat(340)}${stamp}`.slice(0, 340) + "abcd"; // 340 × 3 + 4 = 1,024 bytes
    expect(Buffer.byteLength(atLimit)).toBe(MAX_ID_BYTES);
    const response = await post({
      method: "POST",
      headers: { "content-type": "application/cloudevents+json" },
      body: JSON.stringify({ specversion: "1.0", id: atLimit, source: "/limit", type: "limit" }),
    });
    expect(response.status).toBe(202);
    await eventually(async () => ((await detail(atLimit)).status === 200 ? true : undefined), "the 1,024-byte id to be recorded");
    expect((await (await detail(atLimit)).json()).id).toBe(atLimit);
    const replay = await app.api(`/api/messages/${encodeURIComponent(atLimit)}/replay`, { method: "POST" });
    expect(replay.status).toBe(201);
    const tooLong = await detail(`${atLimit}x`);
    expect(tooLong.status).toBe(400);
    expect((await tooLong.json()).detail).toMatch(/1024 bytes/);
  });

  it("sets a topic's retention through PATCH /api/topics/{topic} and shows it in the summary", async () => {
    const response = await app.api(`/api/topics/${topic}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ retention: { maxAgeSeconds: 86_400, maxRows: 0 } }),
    });
    expect(response.status).toBe(200);
    const summary = await response.json();
    expect(summary.retention).toEqual({ maxAgeSeconds: 86_400, maxRows: null, setting: { maxAgeSeconds: 86_400, maxRows: 0 } });
    expect(summary.keptMessages).toBeGreaterThanOrEqual(1000);
    expect(typeof summary.oldestMessageAt).toBe("string");
    const bad = await app.api(`/api/topics/${topic}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ retention: { maxRows: -5 } }),
    });
    expect(bad.status).toBe(400);
  });

  it("prepares a burst's batches in the recorder's worker thread (bundled by Next), none failing", async () => {
    // Counted by id: a row of an earlier test (the replay's copy) may still be committing when this one starts.
    const prefix = `burst-${stamp}-`;
    const burstRows = async () =>
      Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM messages WHERE topic = $1 AND id LIKE $2", [topic, `${prefix}%`])).rows[0]!.n);
    const js = jetstream(nc);
    for (let start = 0; start < 5000; start += 500) {
      await Promise.all(
        Array.from({ length: 500 }, (_, i) => js.publish(topic, Buffer.from(JSON.stringify({ burst: start + i })), { msgID: `${prefix}${start + i}` })),
      );
    }
    try {
      await eventually(async () => ((await burstRows()) === 5000 ? true : undefined), "the 5,000 burst rows", 150_000);
    } catch (error) {
      // Say where the recorder stands, for the next reader of this failure.
      const health = await (await app.api("/api/health")).text();
      const recorderLines = (await (await app.api("/api/metrics")).text()).split("\n").filter((l) => l.includes(topic) && l.startsWith("whisper_recorder"));
      throw new Error(
        `${(error as Error).message}; ${await burstRows()} of 5000 recorded\nhealth: ${health}\n${recorderLines.join("\n")}\nserver log:\n${app.output().slice(-4000)}`,
      );
    }
    const metrics = await (await app.api("/api/metrics")).text();
    const inWorker = new RegExp(`whisper_recorder_prepared_in_worker_total\\{topic="${topic}"\\} (\\d+)`).exec(metrics);
    expect(Number(inWorker?.[1])).toBeGreaterThan(0);
    expect(app.output()).not.toMatch(/worker thread/);
  });
});
