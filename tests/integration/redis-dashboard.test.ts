import { Redis } from "ioredis";
import { dashboardOnBus } from "../support/dashboard-on-bus";

/** The dashboard with WHISPER_BUS=redis://host:port: each topic is a stream of that name. */
dashboardOnBus({
  name: "redis",
  brokerPort: 6379,
  bus: (port) => `redis://127.0.0.1:${port}?bufferTimeoutMs=300`,
  expectedTopicUrl: (bus, topic) => bus.replace("?", `/${topic}?`),
  sequence: true,
  async cleanup(topics) {
    const admin = new Redis(6379, "127.0.0.1");
    await admin.del(...topics);
    admin.disconnect();
  },
});
