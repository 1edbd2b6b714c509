import { Redis } from "ioredis";
import { newId } from "@whisper/core";
import { BrokerProcess } from "../support/broker-process";
import type { ConformanceHarness } from "./harness";
import { runConformance } from "./suite";

const SERVER = "redis://127.0.0.1:6379";

let admin: Redis;
let own: BrokerProcess | undefined;

const harness: ConformanceHarness = {
  name: "redis",
  capabilities: { nack: true, redelivery: true, ordering: true, persistence: true, sharedSubscriptions: true },
  capabilityReasons: {},
  async setup() {
    admin = new Redis(6379, "127.0.0.1");
  },
  async teardown() {
    admin.disconnect();
    await own?.stop();
  },
  async newTopic() {
    const stream = `conformance.${newId()}`;
    const url = `${SERVER}/${stream}`;
    return { topicUrl: url, subscriptionUrl: url, cleanup: async () => void (await admin.del(stream)) };
  },
  // A private redis-server whose memory limit is below what it already uses refuses every XADD with "OOM
  // command not allowed" (retryable: memory can free up); heal() lifts the limit.
  async failingTopic() {
    own ??= await BrokerProcess.redis();
    const control = new Redis(own.port, "127.0.0.1");
    await control.config("SET", "maxmemory", "1");
    const url = `redis://127.0.0.1:${own.port}/failing.${newId()}`;
    return {
      topicUrl: url,
      subscriptionUrl: url,
      async heal() {
        await control.config("SET", "maxmemory", "0");
      },
      async cleanup() {
        control.disconnect();
      },
    };
  },
  unknownTopic: { reason: "Redis creates a stream on its first XADD: any stream name can be published to" },
  ackDeadlineMs: 1_000,
};

runConformance(harness);
