import { connect, type ChannelModel } from "amqplib";
import { ErrorCode, newId } from "@whisper/core";
import type { ConformanceHarness } from "./harness";
import { runConformance } from "./suite";

const SERVER = "amqp://127.0.0.1:5672";

let admin: ChannelModel;

/** Runs `fn` on a fresh channel of the test's own connection (a failed declaration closes only that channel). */
async function withChannel(fn: (channel: Awaited<ReturnType<ChannelModel["createChannel"]>>) => Promise<unknown>): Promise<void> {
  const channel = await admin.createChannel();
  try {
    await fn(channel);
  } finally {
    await channel.close().catch(() => {});
  }
}

/** Deletes an exchange and the queues the suite's subscriptions declared on it (private ones delete themselves). */
async function dropExchange(exchange: string): Promise<void> {
  for (const name of ["durable", "shared-a", "separate-b"]) await withChannel((c) => c.deleteQueue(`${exchange}.${name}`)).catch(() => {});
  await withChannel((c) => c.deleteExchange(exchange)).catch(() => {});
}

const harness: ConformanceHarness = {
  name: "amqp",
  capabilities: { nack: true, redelivery: true, ordering: true, persistence: true, sharedSubscriptions: true },
  capabilityReasons: {},
  async setup() {
    admin = await connect(SERVER);
    admin.on("error", () => {});
  },
  async teardown() {
    await admin.close();
  },
  async newTopic() {
    const exchange = `conformance.${newId()}`;
    const url = `${SERVER}/${exchange}`;
    return { topicUrl: url, subscriptionUrl: url, cleanup: () => dropExchange(exchange) };
  },
  // A queue bound to the exchange that holds nothing and rejects what overflows (x-max-length 0, reject-publish):
  // the broker nacks every publish (retryable: the queue may drain); heal() deletes that queue.
  async failingTopic() {
    const exchange = `failing.${newId()}`;
    const blocker = `${exchange}.full`;
    await withChannel(async (c) => {
      await c.assertExchange(exchange, "fanout", { durable: true });
      await c.assertQueue(blocker, { durable: true, arguments: { "x-max-length": 0, "x-overflow": "reject-publish" } });
      await c.bindQueue(blocker, exchange, "");
    });
    const url = `${SERVER}/${exchange}`;
    return {
      topicUrl: url,
      subscriptionUrl: url,
      async heal() {
        await withChannel((c) => c.deleteQueue(blocker));
      },
      cleanup: () => dropExchange(exchange),
    };
  },
  unknownTopic: { url: `${SERVER}/missing.${newId()}?create=false`, code: ErrorCode.NotFound },
  ackDeadlineMs: 1_000,
};

runConformance(harness);
