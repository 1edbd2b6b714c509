import { describe, expect, it } from "vitest";
import { redactText, redactUrl } from "@/server/redact";

/** The one redaction function: every credential form in a URL, and URLs inside free text. */
describe("redactUrl", () => {
  const cases: Array<[string, string]> = [
    ["nats://s3cr3t-token@127.0.0.1:4222", "nats://***@127.0.0.1:4222"],
    ["nats://user:pa55@127.0.0.1:4222", "nats://***@127.0.0.1:4222"],
    ["jetstream://alice:pw@nats.example:4222/orders?stream=S", "jetstream://***@nats.example:4222/orders?stream=S"],
    ["https://user@example.com/hook", "https://***@example.com/hook"],
    ["postgresql://postgres:hunter2@db:5432/whisper?schema=x", "postgresql://***@db:5432/whisper?schema=x"],
    ["https://example.com/in?token=abc&x=1", "https://example.com/in?token=***&x=1"],
    ["https://example.com/in?access_token=abc&api_key=k&sig=s&password=p", "https://example.com/in?access_token=***&api_key=***&sig=***&password=***"],
    ["nats://h:4222?user_jwt=eyJ&nkey_seed=SU", "nats://h:4222?user_jwt=***&nkey_seed=***"],
    ["eventbus:", "eventbus:"],
    ["eventbus:orders?bus=main", "eventbus:orders?bus=main"],
    ["jetstream://127.0.0.1:4222?stream=WHISPER", "jetstream://127.0.0.1:4222?stream=WHISPER"],
    ["not a url user:pw@host", "not a url user:pw@host"],
    ["nats ://tok@host", "nats ://***@host"],
  ];
  for (const [input, expected] of cases) {
    it(`${input} → ${expected}`, () => {
      expect(redactUrl(input)).toBe(expected);
      expect(redactUrl(redactUrl(input))).toBe(expected);
    });
  }
});

describe("redactText", () => {
  it("redacts every URL in an error message and leaves the rest", () => {
    const text =
      "cannot open topic orders on the broker nats://tok3n@10.0.0.5:4222 (WHISPER_BUS); retry https://x.example/?secret=zz later";
    expect(redactText(text)).toBe(
      "cannot open topic orders on the broker nats://***@10.0.0.5:4222 (WHISPER_BUS); retry https://x.example/?secret=*** later",
    );
  });

  it("leaves text without credentials alone", () => {
    expect(redactText("topic demo.orders not found (create it with POST /api/topics)")).toBe(
      "topic demo.orders not found (create it with POST /api/topics)",
    );
  });
});
