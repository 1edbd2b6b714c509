import { CloudEvent, HTTP } from "cloudevents";
import { describe, expect, it } from "vitest";
import { createMessage, defaults, ErrorCode, Message, wire } from "@whisper/core";

describe("createMessage", () => {
  it("makes a frozen CloudEvent 1.0 with a nuid id, the time now and the documented defaults", () => {
    const before = Date.now();
    const m = createMessage({ data: { n: 1 } });
    expect(m.specversion).toBe("1.0");
    expect(m.id).toMatch(/^[A-Za-z0-9]{22}$/);
    expect(Date.parse(m.time)).toBeGreaterThanOrEqual(before - 1);
    expect(m.source).toBe(defaults.message.source);
    expect(m.type).toBe(defaults.message.type);
    expect(m.datacontenttype).toBe("application/json");
    expect(Object.isFrozen(m)).toBe(true);
    expect(Object.isFrozen(m.extensions)).toBe(true);
    expect(() => {
      (m as { id: string }).id = "x";
    }).toThrow();
    expect(createMessage().id).not.toBe(m.id);
  });

  it("carries the ordering key as the extension orderingkey", () => {
    const m = createMessage({ orderingKey: "customer-42" });
    expect(m.orderingKey).toBe("customer-42");
    expect(m.extensions.orderingkey).toBe("customer-42");
  });

  it("encodes data once, so mutating the caller's object later changes nothing sent", () => {
    const data = { n: 1 };
    const m = createMessage({ data });
    data.n = 2;
    expect(m.body).toBe('{"n":1}');
  });

  it("infers content types for text and bytes", () => {
    expect(createMessage({ data: "hi" }).datacontenttype).toMatch(/^text\/plain/);
    expect(createMessage({ data: new Uint8Array([1]) }).datacontenttype).toBe("application/octet-stream");
  });

  it("with() returns a changed copy and leaves the original as it was", () => {
    const m = createMessage({ data: 1, extensions: { a: "1" } });
    const copy = m.with({ extensions: { replayof: m.id }, id: "new-id" });
    expect(copy.id).toBe("new-id");
    expect(copy.extensions).toEqual({ a: "1", replayof: m.id });
    expect(copy.data).toBe(1);
    expect(m.extensions).toEqual({ a: "1" });
  });

  it.each([
    ["an empty type", { type: "" }],
    ["a non-string source", { source: 5 as unknown as string }],
    ["an invalid time", { time: "yesterday" }],
    ["an upper-case extension name", { extensions: { Tenant: "x" } }],
    ["a reserved extension name", { extensions: { data: "x" } }],
    ["an object extension value", { extensions: { x: {} as unknown as string } }],
    ["a non-integer extension value", { extensions: { x: 1.5 } }],
    ["BigInt data", { data: { n: BigInt(1) } }],
    ["circular data", { data: (() => { const o: Record<string, unknown> = {}; o.self = o; return o; })() }],
    ["a function as data", { data: () => 1 }],
    ["NaN data", { data: Number.NaN }],
    ["an object with a text content type", { data: { a: 1 }, datacontenttype: "text/plain" }],
    ["an empty ordering key", { orderingKey: "" }],
  ])("rejects %s with InvalidMessageError", (_what, init) => {
    expect(() => createMessage(init as never)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidMessage }));
  });
});

describe("wire formats", () => {
  const sample = () =>
    createMessage({
      type: "com.example.t",
      source: "/src",
      subject: "ünïcode \"subject\" 100%",
      data: { hello: "world" },
      extensions: { tenant: "acme", count: 3, flag: true },
      orderingKey: "k",
    });

  it("round-trips JSON, text and bytes through binary mode", () => {
    for (const data of [{ a: [1, 2] }, "some text", new Uint8Array([0, 1, 255])]) {
      const m = createMessage({ data, subject: "s p a c e" });
      const { headers, body } = wire.toBinary(m);
      const back = wire.fromBinary(Object.entries(headers), body);
      expect(back.id).toBe(m.id);
      expect(back.subject).toBe("s p a c e");
      expect(back.data).toEqual(data);
    }
  });

  it("percent-encodes header values and decodes them back", () => {
    const m = sample();
    const { headers } = wire.toBinary(m);
    expect(headers["ce-subject"]).not.toContain(" ");
    expect(wire.fromBinary(Object.entries(headers), undefined).subject).toBe(m.subject);
  });

  it("round-trips structured and batch mode, keeping extension types", () => {
    const m = sample();
    const bytes = createMessage({ data: new Uint8Array([9, 8, 7]) });
    const back = wire.fromStructured(wire.toStructured(m));
    expect(back.toJSON()).toEqual(m.toJSON());
    const batch = wire.fromBatch(wire.toBatch([m, bytes]));
    expect(batch.map((x) => x.id)).toEqual([m.id, bytes.id]);
    expect(batch[1]!.data).toEqual(new Uint8Array([9, 8, 7]));
  });

  it("interoperates with the cloudevents SDK in both directions", () => {
    const m = sample();
    // Ours → SDK (structured and binary).
    const structured = HTTP.toEvent({
      headers: { "content-type": wire.STRUCTURED_CONTENT_TYPE },
      body: wire.toStructured(m),
    }) as CloudEvent<unknown>;
    expect(structured.id).toBe(m.id);
    expect(structured.data).toEqual({ hello: "world" });
    expect(structured.tenant).toBe("acme");
    // The SDK (v10) does not percent-decode header values as the HTTP binding asks, so the binary-mode
    // check uses a subject that needs no encoding.
    const plain = m.with({ subject: "order/42" });
    const { headers, body } = wire.toBinary(plain);
    const binary = HTTP.toEvent({ headers, body: Buffer.from(body).toString() }) as CloudEvent<unknown>;
    expect(binary.id).toBe(m.id);
    expect(binary.subject).toBe("order/42");
    expect(binary.data).toEqual({ hello: "world" });
    // SDK → ours.
    const event = new CloudEvent({ type: "sdk.type", source: "/sdk", data: { x: 1 }, myext: "v" });
    const sdkStructured = HTTP.structured(event);
    const fromSdk = wire.fromStructured(sdkStructured.body as string);
    expect(fromSdk).toMatchObject({ id: event.id, type: "sdk.type", data: { x: 1 } });
    expect(fromSdk.extensions.myext).toBe("v");
    const sdkBinary = HTTP.binary(event);
    const fromSdkBinary = wire.fromBinary(
      Object.entries(sdkBinary.headers as Record<string, string>),
      Buffer.from(sdkBinary.body as string),
    );
    expect(fromSdkBinary).toMatchObject({ id: event.id, data: { x: 1 } });
    // Every message we create is a valid CloudEvent for the SDK.
    expect(() => new CloudEvent(m.toJSON() as never).validate()).not.toThrow();
  });

  it.each([
    ["not JSON", "{"],
    ["an array where an event is expected", "[]"],
    ["a missing specversion", '{"id":"1","source":"/s","type":"t"}'],
    ["a wrong specversion", '{"specversion":"0.3","id":"1","source":"/s","type":"t"}'],
    ["a missing id", '{"specversion":"1.0","source":"/s","type":"t"}'],
    ["both data and data_base64", '{"specversion":"1.0","id":"1","source":"/s","type":"t","data":1,"data_base64":"AA=="}'],
    ["bad base64", '{"specversion":"1.0","id":"1","source":"/s","type":"t","data_base64":"***"}'],
    ["a bad extension name", '{"specversion":"1.0","id":"1","source":"/s","type":"t","Bad":"x"}'],
  ])("rejects structured input with %s", (_what, text) => {
    expect(() => wire.fromStructured(text)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidMessage }));
  });

  it("rejects binary input without specversion or with invalid JSON data", () => {
    expect(() => wire.fromBinary([["ce-id", "1"]], undefined)).toThrow(/specversion/);
    expect(() =>
      wire.fromBinary(
        [
          ["ce-specversion", "1.0"],
          ["ce-id", "1"],
          ["ce-source", "/s"],
          ["ce-type", "t"],
          ["content-type", "application/json"],
        ],
        new TextEncoder().encode("{oops"),
      ),
    ).toThrow(expect.objectContaining({ code: ErrorCode.InvalidMessage }));
  });

  it("Message.fromWire decodes by content type", () => {
    const attrs = { specversion: "1.0", id: "1", source: "/s", type: "t" };
    expect(Message.fromWire({ ...attrs, datacontenttype: "application/cloudevents+json" }, '{"a":1}').data).toEqual({
      a: 1,
    });
    expect(Message.fromWire({ ...attrs, datacontenttype: "text/csv" }, "a,b").data).toBe("a,b");
    expect(Message.fromWire({ ...attrs }, new Uint8Array([1])).data).toEqual(new Uint8Array([1]));
  });
});

describe("hostile attribute names", () => {
  it("refuses __proto__ as an attribute from the wire instead of setting a prototype", () => {
    const attributes = JSON.parse('{"specversion":"1.0","id":"1","source":"/s","type":"t","__proto__":{"polluted":"yes"}}');
    expect(() => Message.fromWire(attributes, undefined)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidMessage }));
    expect(() => createMessage({ extensions: attributes })).toThrow(expect.objectContaining({ code: ErrorCode.InvalidMessage }));
  });
});
