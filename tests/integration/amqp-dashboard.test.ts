import { connect } from "amqplib";
import { dashboardOnBus } from "../support/dashboard-on-bus";

/** The dashboard with WHISPER_BUS=amqp://host:port: each topic is an exchange of that name. */
dashboardOnBus({
  name: "amqp",
  brokerPort: 5672,
  bus: (port) => `amqp://127.0.0.1:${port}?bufferTimeoutMs=300`,
  expectedTopicUrl: (bus, topic) => bus.replace("?", `/${topic}?`),
  sequence: false,
  async cleanup(topics) {
    const admin = await connect("amqp://127.0.0.1:5672");
    const channel = await admin.createChannel();
    channel.on("error", () => {});
    for (const exchange of topics) {
      // The recorder's durable queue is `<exchange>.<subscription name>`.
      await channel.deleteQueue(`${exchange}.whisper-recorder`).catch(() => {});
      await channel.deleteExchange(exchange).catch(() => {});
    }
    await admin.close().catch(() => {});
  },
});
