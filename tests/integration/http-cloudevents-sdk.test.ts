import http from "node:http";
import { CloudEvent, emitterFor, HTTP, httpTransport, Mode } from "cloudevents";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMessage, newId, openSubscription, openTopic, subAck, type ReceivedMessage, type Subscription } from "@whisper/core";
import { freePort } from "../support/net";

/** Interop with the CloudEvents JavaScript SDK (cloudevents v10) over HTTP, in both directions. */


function post(url: string, message: { headers: Record<string, unknown>; body: unknown }): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, String(v)]));
    const req = http.request(url, { method: "POST", headers, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(message.body as string | Buffer);
  });
}

/** Receives the next `count` messages on `sub`, acking each. */
function next(sub: Subscription, count: number): Promise<ReceivedMessage[]> {
  const got: ReceivedMessage[] = [];
  const stop = new AbortController();
  return new Promise((resolve, reject) => {
    sub
      .receive(
        (m) => {
          got.push(m);
          if (got.length === count) stop.abort();
        },
        { signal: stop.signal },
      )
      .then(() => resolve(got), reject);
  });
}

function sdkEvent(data: unknown, extra: Record<string, unknown> = {}): CloudEvent<unknown> {
  return new CloudEvent<unknown>({
    id: `sdk-${newId()}`,
    source: "https://sdk.example/source",
    type: "com.example.sdk.sent",
    subject: "subject with spaces ünïcode",
    time: "2026-02-03T04:05:06.789Z",
    dataschema: "https://sdk.example/schema.json",
    tenant: "acme",
    data,
    ...extra,
  });
}

describe("cloudevents SDK → whisper http subscription", () => {
  let base = "";
  let sub: Subscription;

  beforeAll(async () => {
    base = `http://127.0.0.1:${await freePort()}/sdk-in`;
    sub = await openSubscription(base, { use: [subAck()] });
  });
  afterAll(async () => {
    await sub?.close();
  });

  function expectSame(got: ReceivedMessage, sent: CloudEvent<unknown>) {
    for (const attribute of ["id", "source", "type", "subject", "dataschema"] as const) {
      expect(got[attribute], attribute).toBe(sent[attribute]);
    }
    expect(Date.parse(got.time)).toBe(Date.parse(sent.time!));
    expect(got.extensions.tenant).toBe("acme");
  }

  for (const [mode, encode] of [
    ["binary", HTTP.binary],
    ["structured", HTTP.structured],
  ] as const) {
    it(`receives JSON data intact (${mode})`, async () => {
      const sent = sdkEvent({ order: 42, items: ["a", "b"], nested: { ok: true, text: "żółw" } });
      const receiving = next(sub, 1);
      expect(await post(base, encode(sent))).toBe(204);
      const [got] = await receiving;
      expectSame(got!, sent);
      expect(got!.data).toEqual(sent.data);
    });

    it(`receives text and bytes intact (${mode})`, async () => {
      const text = sdkEvent("plain text, \"quoted\"", { datacontenttype: "text/plain" });
      const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const binary = sdkEvent(bytes, { datacontenttype: "application/octet-stream" });
      const receiving = next(sub, 2);
      expect(await post(base, encode(text))).toBe(204);
      expect(await post(base, encode(binary))).toBe(204);
      const [gotText, gotBytes] = await receiving;
      expectSame(gotText!, text);
      expect(gotText!.data).toBe(text.data);
      expectSame(gotBytes!, binary);
      expect(Buffer.from(gotBytes!.data as Uint8Array).equals(bytes)).toBe(true);
    });
  }

  it("receives events sent by the SDK's own emitter and HTTP transport, in both modes", async () => {
    const binary = sdkEvent({ via: "emitter", mode: "binary" });
    const structured = sdkEvent({ via: "emitter", mode: "structured" });
    const receiving = next(sub, 2);
    await emitterFor(httpTransport(base), { mode: Mode.BINARY })(binary);
    await emitterFor(httpTransport(base), { mode: Mode.STRUCTURED })(structured);
    const got = await receiving;
    expect(got.map((m) => m.id).sort()).toEqual([binary.id, structured.id].sort());
    for (const m of got) expect(m.data).toEqual(m.id === binary.id ? binary.data : structured.data);
  });
});

describe("whisper http topic → cloudevents SDK HTTP.toEvent", () => {
  let url = "";
  let server: http.Server;
  const captured: Array<{ headers: http.IncomingHttpHeaders; body: string; raw: Buffer }> = [];

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}/sdk-out`;
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks);
        captured.push({ headers: req.headers, body: raw.toString("utf8"), raw });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  // The binding percent-encodes header values outside printable ASCII (and space, '"', '%'); the SDK v10 does
  // not decode them, so binary mode is compared on a subject that needs no encoding. Structured and batch
  // modes carry the full one.
  const message = (mode: string) =>
    createMessage({
      type: "com.example.whisper.sent",
      source: "https://whisper.example/topic",
      subject: mode === "binary" ? "order/7-plain-ascii" : "order/7 ünïcode \"quoted\" 100%",
      dataschema: "https://whisper.example/schema.json",
      data: { total: 12.5, lines: [{ sku: "A-1", qty: 2 }], note: "żółw 🐢" },
      extensions: { tenant: "acme", priority: 5, urgent: true },
    });

  for (const mode of ["binary", "structured", "batch"] as const) {
    it(`its ${mode} output parses with the SDK, attributes and data intact`, async () => {
      const topic = await openTopic(`${url}?mode=${mode}`);
      const sent = [message(mode), message(mode)];
      captured.length = 0;
      await Promise.all(sent.map((m) => topic.publish(m)));
      await topic.close();
      const events = captured.flatMap(({ headers, body }): CloudEvent<unknown>[] => {
        const parsed = HTTP.toEvent<unknown>({ headers, body });
        return (Array.isArray(parsed) ? parsed : [parsed]) as CloudEvent<unknown>[];
      });
      expect(events.length).toBe(2);
      for (const m of sent) {
        const event = events.find((e) => e.id === m.id)!;
        expect(event, m.id).toBeDefined();
        expect(event.validate()).toBe(true);
        expect(event.source).toBe(m.source);
        expect(event.type).toBe(m.type);
        expect(event.subject).toBe(m.subject);
        expect(event.dataschema).toBe(m.dataschema);
        expect(Date.parse(event.time!)).toBe(Date.parse(m.time));
        expect(event.data).toEqual(m.data);
        // Binary mode carries extension values as header strings.
        for (const [name, value] of Object.entries(m.extensions)) expect(String(event[name]), name).toBe(String(value));
      }
    });
  }

  it("its bytes parse with the SDK in binary and structured mode", async () => {
    const bytes = new Uint8Array(Array.from({ length: 256 }, (_, i) => i));
    for (const mode of ["binary", "structured"] as const) {
      const topic = await openTopic(`${url}?mode=${mode}`);
      captured.length = 0;
      const sent = createMessage({ data: bytes });
      await topic.publish(sent);
      await topic.close();
      const { headers, body, raw } = captured[0]!;
      // A binary-mode body is the bytes themselves; a structured one is JSON text with data_base64.
      const event = HTTP.toEvent({ headers, body: mode === "binary" ? raw : body }) as CloudEvent<unknown>;
      expect(event.id).toBe(sent.id);
      const data = event.data_base64 !== undefined ? Buffer.from(event.data_base64, "base64") : event.data;
      expect(Buffer.from(data as Uint8Array).equals(Buffer.from(bytes)), mode).toBe(true);
    }
  });
});
