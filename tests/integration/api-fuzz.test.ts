import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  apiRoutes,
  createSchema,
  ensureBuilt,
  fillPath,
  startApp,
  type ApiRoute,
  type RunningApp,
  type TestSchema,
} from "../support/app";
import {
  badAnswer,
  baseViaHttp,
  baseViaSocket,
  eventCases,
  numbered,
  prng,
  sendAll,
  structured,
  validEvent,
  type Answer,
  type Case,
} from "../support/fuzz";

/**
 * Generated bad input against the dashboard's entry points: the events route, the messages query and every
 * path parameter of every route. At least 200 cases each; every one must get a 4xx problem+json answer (never
 * a 2xx, never a 500, never a crash), and the server must serve normally afterwards.
 */

const TOPIC = "fuzz";
const EVENTS_LIMIT = 4 * 1024 * 1024;
const MAX_EVENT_BYTES = 1024 * 1024;

let schema: TestSchema;
let app: RunningApp;
let routes: ApiRoute[];
let port: number;

beforeAll(async () => {
  await ensureBuilt();
  schema = await createSchema("api_fuzz");
  app = await startApp({ databaseUrl: schema.databaseUrl, topics: `${TOPIC}:ordered` });
  routes = await apiRoutes();
  port = Number(new URL(app.url).port);
});

afterAll(async () => {
  await app?.stop();
  await schema?.drop();
});

const pickFrom = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (random: () => number, below: number) => Math.floor(random() * below);

/** A valid RFC 3339 timestamp with one character deleted, replaced or a field pushed out of range: never valid. */
function badTime(random: () => number): string {
  const good = "2026-01-31T12:34:56.789+01:00";
  switch (int(random, 4)) {
    case 0: {
      // Any deleted character but a fraction digit (fewer fraction digits are still valid).
      const at = pickFrom(random, [...good].flatMap((_, i) => (i >= 20 && i <= 22 ? [] : [i])));
      return good.slice(0, at) + good.slice(at + 1);
    }
    case 1: {
      const digits = [...good].flatMap((c, i) => (/\d/.test(c) ? [i] : []));
      const at = pickFrom(random, digits);
      return good.slice(0, at) + pickFrom(random, ["x", " ", "-", "/"]) + good.slice(at + 1);
    }
    case 2:
      return pickFrom(random, ["2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z", "2026-01-01T00:00:61Z", "2026-01-01T00:00:00+24:00"]);
    default:
      return pickFrom(random, ["1", "Tue 5 May 2020", "2026-01-01", "12:00:00Z", "2026-01-01 12:00:00Z", "now", "", "2026-01-01T00:00:00"]);
  }
}

/** Base64 of random bytes made non-canonical (a character dropped, bad padding or a stray character). */
function badBase64(random: () => number): string {
  const good = Buffer.from(Array.from({ length: 3 + int(random, 30) }, () => int(random, 256))).toString("base64");
  switch (int(random, 3)) {
    case 0:
      return good.slice(0, -1).replace(/=$/, "") + (good.endsWith("=") ? "" : "");
    case 1:
      return `${good.replace(/=+$/, "")}===`;
    default: {
      const at = int(random, good.length);
      return good.slice(0, at) + pickFrom(random, ["!", "-", "_", " ", "*", "."]) + good.slice(at);
    }
  }
}

function dashboardEventCases(): Case[] {
  const random = prng(0xe7e7);
  const auth = { authorization: `Bearer ${app.token}` };
  const post = (name: string, init: { headers?: Record<string, string>; body?: string | Buffer }) =>
    baseViaHttp(name, { ...init, headers: { ...auth, ...init.headers } });
  const cases = eventCases({ maxBody: EVENTS_LIMIT, headers: auth });
  for (let i = 0; i < 40; i++) {
    const time = badTime(random);
    cases.push(post(`time ${JSON.stringify(time)}`, structured({ ...validEvent(random), time })));
  }
  for (let i = 0; i < 30; i++) {
    const value = badBase64(random);
    if (Buffer.from(value, "base64").toString("base64") === value) continue; // by chance canonical: not a bad case
    const { data: _data, ...rest } = validEvent(random);
    cases.push(post(`data_base64 ${JSON.stringify(value)}`, structured({ ...rest, data_base64: value })));
  }
  for (let i = 0; i < 25; i++) {
    const attribute = pickFrom(random, ["id", "source", "type", "subject", "orderingkey", "ext"]);
    const text = "abcdef";
    const at = int(random, text.length + 1);
    cases.push(post(`NUL in ${attribute}`, structured({ ...validEvent(random), [attribute]: `${text.slice(0, at)}\u0000${text.slice(at)}` })));
  }
  for (let i = 0; i < 12; i++) {
    const depth = 65 + int(random, 2000);
    const data = `${"[".repeat(depth)}${"]".repeat(depth)}`;
    cases.push(post(`data nested ${depth} deep`, structured(`{"specversion":"1.0","id":"d${i}","source":"/f","type":"t","data":${data}}`)));
  }
  for (let i = 0; i < 20; i++) {
    const bad = pickFrom(random, [[0xff], [0xc0, 0xaf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xc3], [0xf8, 0x88, 0x80, 0x80, 0x80]]);
    const event = JSON.stringify(validEvent(random));
    const at = event.indexOf('"text":"') + 8;
    cases.push(post(`invalid UTF-8 ${bad.map((b) => b.toString(16)).join(" ")} in structured data`, {
      headers: { "content-type": "application/cloudevents+json" },
      body: Buffer.concat([Buffer.from(event.slice(0, at)), Buffer.from(bad), Buffer.from(event.slice(at))]),
    }));
  }
  for (let i = 0; i < 6; i++) {
    const size = MAX_EVENT_BYTES + 1 + int(random, 512 * 1024);
    cases.push(post(`event of ${size} bytes of data`, structured({ ...validEvent(random), data: "x".repeat(size) })));
  }
  for (let i = 0; i < 12; i++) {
    const header = pickFrom(random, ["ce-id", "ce-source", "ce-type", "ce-time", "ce-orderingkey", "content-type"]);
    cases.push(
      baseViaSocket(`binary with ${header} twice`, (path) =>
        `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${app.token}\r\nce-specversion: 1.0\r\nce-id: a\r\nce-source: /s\r\nce-type: t\r\n` +
        `${header}: ${header === "content-type" ? "text/plain" : "2026-01-01T00:00:00Z"}\r\n${header}: second\r\nContent-Length: 0\r\n\r\n`,
      ),
    );
  }
  return numbered(cases);
}

/** Query strings of GET /api/messages that are wrong in one way each. */
function badQueries(): string[] {
  const random = prng(0x9e7);
  const queries: string[] = [];
  const texts: Array<[string, number]> = [["type", 500], ["source", 2000], ["subject", 2000], ["orderingKey", 500], ["q", 500], ["topic", 200], ["cursor", 1000]];
  for (const name of ["topic", "type", "source", "subject", "orderingKey", "q", "cursor", "from", "to"]) {
    for (let i = 0; i < 3; i++) queries.push(`${name}=${"ab".slice(0, int(random, 3))}%00${"cd".slice(0, int(random, 3))}`);
  }
  for (const [name, max] of texts) {
    for (let i = 0; i < 3; i++) queries.push(`${name}=${"a".repeat(max + 1 + int(random, 500))}`);
  }
  for (let i = 0; i < 30; i++) {
    queries.push(`limit=${encodeURIComponent(pickFrom(random, ["0", "-1", "201", "1000", "1.5", "ten", "1e3", "0x10", "NaN", "Infinity", "", " ", "5a", "--1"]))}${i % 7 === 0 ? "x" : ""}`);
  }
  for (let i = 0; i < 30; i++) {
    const time = badTime(random);
    if (time === "") continue; // an empty value means "not given"
    queries.push(`${pickFrom(random, ["from", "to"])}=${encodeURIComponent(time)}`);
  }
  for (let i = 0; i < 20; i++) queries.push(`${pickFrom(random, ["colour", "Topic", "LIMIT", "sort", "offset", "page", "__proto__", "constructor"])}${i}=1`);
  for (let i = 0; i < 20; i++) {
    const name = pickFrom(random, ["topic", "type", "source", "limit", "cursor", "q"]);
    queries.push(`${name}=a&${name}=b`);
  }
  for (let i = 0; i < 20; i++) {
    queries.push(`cursor=${encodeURIComponent(pickFrom(random, ["!", "a b", "a+b", "a/b", "a=b", "*", "é", "a.b"]) + int(random, 1000))}`);
  }
  const shapes: unknown[] = [null, 1, "x", [], ["2026-01-01T00:00:00Z"], ["not a date", "id"], [1, 2], { a: 1 }, ["2026-01-01T00:00:00Z", 5], ["2026-01-01T00:00:00Z", "a", "b"]];
  for (const shape of shapes) queries.push(`cursor=${Buffer.from(JSON.stringify(shape)).toString("base64url")}`);
  for (let i = 0; i < 10; i++) queries.push(`cursor=${Buffer.from(`not json ${i} {`).toString("base64url")}`);
  for (let i = 0; i < 10; i++) {
    const day = 2 + int(random, 20);
    queries.push(`from=2026-01-${String(day).padStart(2, "0")}T00:00:00Z&to=2026-01-01T00:00:00Z`);
  }
  for (let i = 0; i < 20; i++) {
    queries.push(`topic=${encodeURIComponent(pickFrom(random, ["a b", "orders.>", "orders.*", "a..b", ".a", "a.", "ümlaut", "a/b", "#", "x".repeat(201)]))}`);
  }
  return queries;
}

/** Path segments that can never be valid for `param`: undecodable, NUL, too long, or (topics) bad characters. */
function badSegments(param: string): string[] {
  const random = prng(param.length * 7919 + param.charCodeAt(0));
  const segments: string[] = [];
  const hex = (b: number) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  for (let i = 0; i < 70; i++) {
    const bad = pickFrom(random, [[0xff], [0xfe], [0xc0, 0xaf], [0xe0, 0x80], [0xed, 0xa0, 0x80], [0xc3, 0x28], [0x80], [0xf5, 0x80, 0x80, 0x80]]);
    segments.push(`ok${int(random, 100)}${bad.map(hex).join("")}${i % 2 ? "tail" : ""}`);
  }
  for (let i = 0; i < 50; i++) segments.push(`${"ab".slice(0, int(random, 3))}%00${int(random, 1000)}`);
  for (let i = 0; i < 40; i++) segments.push("y".repeat((param === "topic" ? 201 : 257) + int(random, 800)));
  for (let i = 0; i < 40; i++) {
    const junk = pickFrom(random, ["%", "%Z", "%ZZ", "%G0", "%%", "%0", "%1%"]);
    segments.push(`a${int(random, 100)}${junk}`);
  }
  if (param === "topic") {
    for (let i = 0; i < 30; i++) segments.push(encodeURIComponent(pickFrom(random, ["a b", "a*", "a>", "a..b", ".a", "b.", "é", "a/b", "a#", "a?"]) + i));
  }
  return segments;
}

async function answer(response: Response): Promise<Answer> {
  return { status: response.status, contentType: response.headers.get("content-type") ?? undefined, body: await response.text() };
}

describe("the events route", () => {
  let cases: Case[];

  beforeAll(() => {
    cases = dashboardEventCases();
  });

  it("has at least 200 generated bad inputs", () => {
    expect(cases.length).toBeGreaterThanOrEqual(200);
  });

  it("answers each with 4xx problem+json", async () => {
    expect(await sendAll(cases, port, `/api/topics/${TOPIC}/events`, 4)).toEqual([]);
  });
});

describe("the messages query", () => {
  it("answers at least 200 generated bad queries each with 4xx problem+json", async () => {
    const queries = badQueries();
    expect(queries.length).toBeGreaterThanOrEqual(200);
    const failures: string[] = [];
    for (const query of queries) {
      const why = badAnswer(await answer(await app.api(`/api/messages?${query}`)));
      if (why !== undefined) failures.push(`?${query.slice(0, 120)}: ${why}`);
    }
    expect(failures).toEqual([]);
  });
});

describe("every path parameter", () => {
  const BODIES: Record<string, { contentType: string; body: string }> = {
    "/api/topics/{topic}/events": { contentType: "application/cloudevents+json", body: JSON.stringify({ specversion: "1.0", id: "p", source: "/p", type: "t" }) },
    "/api/topics/{topic}/failure": { contentType: "application/json", body: '{"failing":true}' },
    "/api/messages/{id}/replay": { contentType: "application/json", body: "{}" },
  };

  it("answers at least 200 generated bad values per route and method with 4xx problem+json", async () => {
    const dynamic = routes.filter((r) => /\{\w+\}/.test(r.path));
    expect(dynamic.length).toBeGreaterThanOrEqual(8);
    const failures: string[] = [];
    for (const route of dynamic) {
      const param = /\{(\w+)\}/.exec(route.path)![1]!;
      const segments = badSegments(param);
      expect(segments.length, route.path).toBeGreaterThanOrEqual(200);
      for (const method of route.methods) {
        const body = BODIES[route.path];
        for (const segment of segments) {
          const url = fillPath(route.path, { [param]: "PLACEHOLDER" }).replace("PLACEHOLDER", segment);
          const response = await app.api(url, {
            method,
            ...(body && method !== "GET" ? { headers: { "content-type": body.contentType }, body: body.body } : {}),
          });
          const why = badAnswer(await answer(response));
          if (why !== undefined) failures.push(`${method} ${url.slice(0, 120)}: ${why}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});

describe("afterwards", () => {
  it("the server is alive and publishes a good event", async () => {
    expect((await fetch(`${app.url}/api/health`)).status).toBe(200);
    const good = await app.api(`/api/topics/${TOPIC}/events`, {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json" },
      body: JSON.stringify({ specversion: "1.0", id: "after-fuzz", source: "/fuzz", type: "ok", time: "2026-01-01T00:00:00Z" }),
    });
    expect(good.status).toBe(202);
    expect((await good.json()).results).toEqual([{ id: "after-fuzz", status: "published" }]);
  });
});
