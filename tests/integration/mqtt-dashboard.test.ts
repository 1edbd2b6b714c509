import { dashboardOnBus } from "../support/dashboard-on-bus";

/** The dashboard with WHISPER_BUS=mqtt://host:port: each topic is an MQTT topic of that name (nothing to clean up). */
dashboardOnBus({
  name: "mqtt",
  brokerPort: 1883,
  bus: (port) => `mqtt://127.0.0.1:${port}?bufferTimeoutMs=300`,
  expectedTopicUrl: (bus, topic) => bus.replace("?", `/${topic}?`),
  sequence: false,
  async cleanup() {},
});
