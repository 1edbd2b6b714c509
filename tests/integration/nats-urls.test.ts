import { describe, expect, it } from "vitest";
import { ErrorCode, openSubscription, openTopic } from "@whisper/core";

describe("nats:// and jetstream:// URLs and settings", () => {
  it.each([
    ["nats://127.0.0.1:4222/", ErrorCode.InvalidUrl],
    ["nats://127.0.0.1:4222/orders.*", ErrorCode.InvalidUrl],
    ["nats://127.0.0.1:4222/orders..x", ErrorCode.InvalidUrl],
    ["nats://127.0.0.1:4222/orders?bufferTimeout=5", ErrorCode.InvalidUrl],
    ["nats://127.0.0.1:4222/orders?bufferTimeoutMs=-1", ErrorCode.InvalidUrl],
    ["jetstream://127.0.0.1:4222/orders?stream=a.b", ErrorCode.InvalidUrl],
    ["jetstream://127.0.0.1:4222/orders?stream=S&create=maybe", ErrorCode.InvalidUrl],
    ["nats://127.0.0.1:1/orders", ErrorCode.Connection],
  ])("opening a topic on %s fails with %s", async (url, code) => {
    await expect(openTopic(url)).rejects.toMatchObject({ code });
  });

  it("rejects bad subscription subjects, names and settings with coded errors", async () => {
    await expect(openSubscription("nats://127.0.0.1:4222/orders.>.x")).rejects.toMatchObject({
      code: ErrorCode.InvalidUrl,
    });
    await expect(openSubscription("nats://127.0.0.1:4222/orders.>", { name: "two words" })).rejects.toMatchObject({
      code: ErrorCode.InvalidOptions,
    });
    await expect(openSubscription("jetstream://127.0.0.1:4222/orders.>", { name: "a.b" })).rejects.toMatchObject({
      code: ErrorCode.InvalidOptions,
    });
    await expect(
      openSubscription("jetstream://127.0.0.1:4222/orders.>", { driver: { unknownSetting: 1 } }),
    ).rejects.toMatchObject({ code: ErrorCode.InvalidOptions });
  });

  it("accepts wildcard subscriptions, including a percent-encoded >", async () => {
    const sub = await openSubscription("nats://127.0.0.1:4222/orders.*.%3E");
    await sub.close();
  });
});
