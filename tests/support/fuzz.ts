import http from "node:http";
import net from "node:net";
import { readAnswer, type RawAnswer } from "./http";

/**
 * Bad-request generators shared by the fuzz suites (the core's http subscription, the dashboard's events
 * route): deterministic (a seeded PRNG, so a failing case is reproducible from its name), each case known to
 * be invalid, and a check that an answer is a 4xx application/problem+json.
 */

/** Deterministic PRNG (mulberry32), so a failing case can be reproduced from its name. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Answer {
  status: number;
  contentType: string | undefined;
  body: string;
}

/** A bad request: its name, and how to send it. */
export interface Case {
  name: string;
  send(port: number, path: string): Promise<Answer>;
}

export function baseViaHttp(
  name: string,
  { method = "POST", headers = {}, body, path }: { method?: string; headers?: Record<string, string>; body?: string | Buffer; path?: string },
): Case {
  return {
    name,
    send: (port, defaultPath) =>
      new Promise((resolve, reject) => {
        const req = http.request(
          { host: "127.0.0.1", port, path: path ?? defaultPath, method, headers, agent: false },
          (res) => void readAnswer(res).then((a) => resolve(answerOf(a)), reject),
        );
        req.on("error", reject);
        req.end(body);
      }),
  };
}

/** A raw request over a socket (for framing errors node's client refuses to produce); reads until close. */
export function baseViaSocket(name: string, raw: (path: string) => string | Buffer, halfClose = true): Case {
  return {
    name,
    send: (port, path) =>
      new Promise((resolve, reject) => {
        const socket = net.connect(port, "127.0.0.1", () => {
          if (halfClose) socket.end(raw(path));
          else socket.write(raw(path));
        });
        const chunks: Buffer[] = [];
        socket.on("data", (c: Buffer) => chunks.push(c));
        socket.on("error", reject);
        socket.on("close", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const [head = "", ...rest] = text.split("\r\n\r\n");
          const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
          const contentType = /\r\ncontent-type: *([^\r\n]+)/i.exec(head)?.[1];
          const body = rest.join("\r\n\r\n");
          resolve({ status, contentType, body: /\r\ntransfer-encoding: *chunked/i.test(head) ? dechunk(body) : body });
        });
      }),
  };
}

export const structured = (event: unknown, contentType = "application/cloudevents+json") => ({
  headers: { "content-type": contentType },
  body: typeof event === "string" ? event : JSON.stringify(event),
});

export function validEvent(random: () => number): Record<string, unknown> {
  return {
    specversion: "1.0",
    id: `id-${Math.floor(random() * 1e9)}`,
    source: "/fuzz",
    type: "fuzz.event",
    time: "2026-01-01T00:00:00Z",
    datacontenttype: "application/json",
    data: { n: Math.floor(random() * 100), text: "ok" },
  };
}

const binaryHeaders = (overrides: Record<string, string | undefined> = {}) => {
  const headers: Record<string, string> = {
    "ce-specversion": "1.0",
    "ce-id": "b-1",
    "ce-source": "/fuzz",
    "ce-type": "fuzz.binary",
    "content-type": "application/json",
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  return headers;
};

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

export function eventCases({ maxBody, headers: extra = {} }: { maxBody: number; headers?: Record<string, string> }): Case[] {
  const random = prng(0x5eed);
  const cases: Case[] = [];
  // Every request carries `extra` headers (e.g. the API's bearer token), raw ones too.
  const viaHttp = (name: string, options: Parameters<typeof baseViaHttp>[1]) =>
    baseViaHttp(name, { ...options, headers: { ...extra, ...options.headers } });
  const viaSocket = (name: string, raw: (path: string) => string | Buffer, halfClose?: boolean) =>
    baseViaSocket(name, (path) => withHeaders(raw(path), extra), halfClose);
  const MAX_BODY = maxBody;

  // Truncated structured JSON (every proper prefix of an object is invalid JSON).
  const text = JSON.stringify(validEvent(random));
  for (let i = 0; i < 30; i++) {
    const cut = 1 + Math.floor(random() * (text.length - 2));
    cases.push(viaHttp(`truncated structured body at ${cut}`, structured(text.slice(0, cut))));
  }
  // Not JSON at all.
  for (const body of ["", "not json", "{'single': 'quotes'}", "{,}", "\u0000\u0001\u0002", "NaN", "{\"a\":1}}", "[1,2"]) {
    cases.push(viaHttp(`structured body ${JSON.stringify(body)}`, structured(body)));
  }
  for (let i = 0; i < 10; i++) {
    const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 200) }, () => Math.floor(random() * 256)));
    cases.push(viaHttp(`random bytes #${i} as structured`, { headers: { "content-type": "application/cloudevents+json" }, body: bytes }));
  }
  // JSON that is not an event object.
  for (const value of [null, 42, "str", true, [], [validEvent(random)]]) {
    cases.push(viaHttp(`structured top-level ${JSON.stringify(value)?.slice(0, 20)}`, structured(JSON.stringify(value))));
  }
  // Missing or empty required attributes.
  for (const attribute of ["id", "source", "type", "specversion"]) {
    const missing = validEvent(random);
    delete missing[attribute];
    cases.push(viaHttp(`structured without ${attribute}`, structured(missing)));
    cases.push(viaHttp(`structured with empty ${attribute}`, structured({ ...validEvent(random), [attribute]: "" })));
  }
  // Bad specversion.
  for (const version of ["0.3", "2.0", "1", "1.0 ", " 1.0", 1, 1.0, null, true, {}, ["1.0"]]) {
    cases.push(viaHttp(`structured specversion ${JSON.stringify(version)}`, structured({ ...validEvent(random), specversion: version })));
  }
  // Wrong attribute types.
  const wrongTypes: Array<[string, unknown]> = [
    ["id", 5],
    ["id", null],
    ["id", { x: 1 }],
    ["source", 7],
    ["source", []],
    ["type", false],
    ["type", ["a"]],
    ["time", "not a time"],
    ["time", 12345],
    ["time", "2026-13-45T99:99:99Z"],
    ["subject", 7],
    ["subject", ""],
    ["datacontenttype", 5],
    ["dataschema", true],
    ["dataschema", ""],
  ];
  for (const [attribute, value] of wrongTypes) {
    cases.push(viaHttp(`structured ${attribute}=${JSON.stringify(value)}`, structured({ ...validEvent(random), [attribute]: value })));
  }
  // Bad extension names and values.
  const badNames = ["Upper", "with-dash", "under_score", "dot.ted", "sp ace", "ümlaut", "__proto__", "x".repeat(30) + "!", "UPPER"];
  for (const name of badNames) {
    const event = JSON.parse(`{${JSON.stringify(name)}:"v"}`) as Record<string, unknown>;
    cases.push(viaHttp(`structured extension name ${JSON.stringify(name)}`, structured({ ...validEvent(random), ...event })));
  }
  const badValues: unknown[] = [{ nested: 1 }, [1, 2], null, 1.5, 2 ** 40, -(2 ** 40), { __proto__: { polluted: true } }];
  for (const value of badValues) {
    cases.push(viaHttp(`structured extension value ${JSON.stringify(value)}`, structured({ ...validEvent(random), ext: value })));
  }
  // "__proto__" as a name must be refused, not swallowed by the prototype setter.
  const protoEvent = JSON.stringify(validEvent(random)).slice(0, -1);
  cases.push(viaHttp("structured __proto__ with an object value", structured(`${protoEvent},"__proto__":{"polluted":"yes"}}`)));
  cases.push(viaHttp("batch element with __proto__", structured(`[${protoEvent},"__proto__":{"x":1}}]`, "application/cloudevents-batch+json")));
  cases.push(viaHttp("binary ce-__proto__ header", { headers: binaryHeaders({ "ce-__proto__": "x" }), body: "{}" }));
  // Bad base64 and data conflicts.
  for (const b64 of ["!!!!", "ab cd", "abc\n=", "====a", "é", 123, null, { a: 1 }, ["QQ=="]]) {
    const { data: _data, ...rest } = validEvent(random);
    cases.push(viaHttp(`data_base64 ${JSON.stringify(b64)}`, structured({ ...rest, datacontenttype: "application/octet-stream", data_base64: b64 })));
  }
  cases.push(viaHttp("both data and data_base64", structured({ ...validEvent(random), data_base64: "QQ==" })));
  // Batches: not an array, or one bad element among good ones.
  for (const value of [{}, "[]x", validEvent(random), "null", 5]) {
    const body = typeof value === "string" ? value : JSON.stringify(value);
    cases.push(viaHttp(`batch body ${body.slice(0, 30)}`, structured(body, "application/cloudevents-batch+json")));
  }
  const badElements: unknown[] = [
    null,
    1,
    "event",
    [],
    { ...validEvent(random), id: "" },
    { ...validEvent(random), specversion: "0.3" },
    { ...validEvent(random), Bad: "x" },
    { ...validEvent(random), data_base64: "%%%" },
  ];
  for (let i = 0; i < 30; i++) {
    const batch = Array.from({ length: 2 + Math.floor(random() * 6) }, () => validEvent(random));
    batch.splice(Math.floor(random() * (batch.length + 1)), 0, pick(random, badElements) as Record<string, unknown>);
    cases.push(viaHttp(`batch of ${batch.length} with one bad element (#${i})`, structured(batch, "application/cloudevents-batch+json")));
  }
  // Binary mode: missing/empty attributes, bad values, bad percent-encoding, bad names, bad JSON body.
  for (const header of ["ce-id", "ce-source", "ce-type"]) {
    cases.push(viaHttp(`binary without ${header}`, { headers: binaryHeaders({ [header]: undefined }), body: "{}" }));
    cases.push(viaHttp(`binary with empty ${header}`, { headers: binaryHeaders({ [header]: "" }), body: "{}" }));
  }
  for (const version of ["0.3", "2.0", "", "1.0.0", "one"]) {
    cases.push(viaHttp(`binary specversion ${JSON.stringify(version)}`, { headers: binaryHeaders({ "ce-specversion": version }), body: "{}" }));
  }
  for (const value of ["%ZZ", "%", "%E0%A4%A", "abc%2", "%C3%28", "%FF%FE"]) {
    cases.push(viaHttp(`binary ce-source ${value}`, { headers: binaryHeaders({ "ce-source": value }), body: "{}" }));
  }
  for (const name of ["ce-Bad_Name", "ce-with-dash", "ce-under_score", "ce-dot.ted"]) {
    cases.push(viaHttp(`binary extension header ${name}`, { headers: binaryHeaders({ [name]: "x" }), body: "{}" }));
  }
  for (const time of ["yesterday", "2026-99-99", "x"]) {
    cases.push(viaHttp(`binary ce-time ${time}`, { headers: binaryHeaders({ "ce-time": time }), body: "{}" }));
  }
  for (let i = 0; i < 15; i++) {
    const body = JSON.stringify({ n: i, list: [1, 2, 3], text: "payload" });
    const cut = 1 + Math.floor(random() * (body.length - 2));
    cases.push(viaHttp(`binary JSON body truncated at ${cut}`, { headers: binaryHeaders(), body: body.slice(0, cut) }));
  }
  for (const ctype of ["application/json", "application/vnd.api+json", "text/json"]) {
    cases.push(viaHttp(`binary ${ctype} body not JSON`, { headers: binaryHeaders({ "content-type": ctype }), body: "<xml/>" }));
  }
  cases.push(
    viaSocket("binary with ce-id twice", (path) =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\nce-specversion: 1.0\r\nce-id: a\r\nce-id: b\r\nce-source: /s\r\nce-type: t\r\nContent-Length: 0\r\n\r\n`,
    ),
  );
  // Wrong content types (no ce- headers).
  for (const ctype of ["text/plain", "application/json", "application/xml", "application/cloudevents+xml", "multipart/form-data; boundary=x", "application/cloudevents-batch+xml"]) {
    cases.push(viaHttp(`content type ${ctype}`, { headers: { "content-type": ctype }, body: JSON.stringify(validEvent(random)) }));
  }
  cases.push(viaHttp("no content type, no ce- headers", { body: JSON.stringify(validEvent(random)) }));
  // Too large: declared, and streamed in chunks without a length.
  // Declared over the limit: refused from the headers alone. The client sends the headers and waits for the
  // answer before any of the body (a client streaming a large body could see the connection closed under it).
  cases.push({
    name: "body over the limit",
    send: (port, path) =>
      new Promise((resolve, reject) => {
        const req = http.request(
          {
            host: "127.0.0.1",
            port,
            path,
            method: "POST",
            headers: { ...extra, "content-type": "application/cloudevents+json", "content-length": String(MAX_BODY * 2) },
            agent: false,
          },
          (res) => void readAnswer(res).then((a) => (req.destroy(), resolve(answerOf(a))), reject),
        );
        req.on("error", reject);
        req.flushHeaders();
      }),
  });
  cases.push({
    name: "chunked body over the limit",
    send: (port, path) =>
      new Promise((resolve, reject) => {
        const req = http.request(
          { host: "127.0.0.1", port, path, method: "POST", headers: { ...extra, "content-type": "application/cloudevents+json" }, agent: false },
          (res) => void readAnswer(res).then((a) => resolve(answerOf(a)), reject),
        );
        req.on("error", reject);
        for (let i = 0; i < 4; i++) req.write("x".repeat(MAX_BODY));
        req.end();
      }),
  });
  // Huge headers, and framing errors node's client would not produce.
  for (const size of [20_000, 40_000, 70_000]) {
    cases.push(
      viaSocket(`header of ${size} bytes`, (path) => `POST ${path} HTTP/1.1\r\nHost: x\r\nX-Pad: ${"a".repeat(size)}\r\n\r\n`),
    );
    cases.push(
      viaSocket(`${size / 1000} k of many headers`, (path) =>
        `POST ${path} HTTP/1.1\r\nHost: x\r\n${Array.from({ length: size / 20 }, (_, i) => `x-h${i}: ${"b".repeat(12)}\r\n`).join("")}\r\n`,
      ),
    );
  }
  cases.push(
    viaSocket("invalid chunk size", (path) =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/cloudevents+json\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n`,
    ),
  );
  cases.push(
    viaSocket("body shorter than Content-Length", (path) =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nContent-Type: application/cloudevents+json\r\n\r\n{"specversion":`,
    ),
  );
  cases.push(
    viaSocket("truncated chunked body", (path) =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/cloudevents+json\r\n\r\n10\r\n{"specversion":`,
    ),
  );
  cases.push(viaSocket("header line without colon", (path) => `POST ${path} HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n`));
  cases.push(viaSocket("bad Content-Length", (path) => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n`));
  cases.push(
    viaSocket("Content-Length and Transfer-Encoding together", (path) =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    ),
  );
  cases.push(viaSocket("not HTTP at all", () => "HELLO THERE\r\n\r\n"));
  return cases;
}

/** The payload of a chunked HTTP/1.1 body (sizes in hex, each chunk followed by CRLF, a 0 chunk last). */
function dechunk(body: string): string {
  let out = "";
  let at = 0;
  for (;;) {
    const eol = body.indexOf("\r\n", at);
    if (eol < 0) return out;
    const size = parseInt(body.slice(at, eol), 16);
    if (!(size > 0)) return out;
    out += body.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/** `raw` with `headers` inserted after its request line (for raw socket cases that need e.g. a token). */
function withHeaders(raw: string | Buffer, headers: Record<string, string>): string | Buffer {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  if (lines === "" || typeof raw !== "string") return raw;
  const end = raw.indexOf("\r\n");
  return end < 0 ? raw : `${raw.slice(0, end + 2)}${lines}${raw.slice(end + 2)}`;
}

function answerOf(raw: RawAnswer): Answer {
  const type = raw.headers["content-type"];
  return { status: raw.status, contentType: Array.isArray(type) ? type[0] : type, body: raw.body };
}

/** Why `answer` is not a proper 4xx problem+json answer, or undefined when it is. */
export function badAnswer(answer: Answer): string | undefined {
  let problem: { status?: unknown; detail?: unknown } = {};
  try {
    problem = JSON.parse(answer.body);
  } catch {
    // reported below
  }
  const ok =
    answer.status >= 400 &&
    answer.status < 500 &&
    answer.contentType === "application/problem+json" &&
    problem.status === answer.status &&
    typeof problem.detail === "string" &&
    problem.detail.length > 0;
  return ok ? undefined : `${answer.status} ${answer.contentType} ${answer.body.slice(0, 200)}`;
}

/** Sends the cases a few at a time (interleaved, gentle on 2 cores); returns "<name>: <why>" per failure. */
export async function sendAll(cases: readonly Case[], port: number, path: string, concurrency = 8): Promise<string[]> {
  const failures: string[] = [];
  for (let i = 0; i < cases.length; i += concurrency) {
    await Promise.all(
      cases.slice(i, i + concurrency).map(async (c) => {
        const answer = await c.send(port, path).catch((e: Error) => ({ status: -1, contentType: undefined, body: e.message }));
        const why = badAnswer(answer);
        if (why !== undefined) failures.push(`${c.name}: ${why}`);
      }),
    );
  }
  return failures;
}

/** Names made unique by their index, to tell failures apart. */
export function numbered(cases: readonly Case[]): Case[] {
  return cases.map((c, i) => ({ ...c, name: `#${i} ${c.name}` }));
}
