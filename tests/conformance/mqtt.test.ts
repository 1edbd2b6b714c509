import { createMessage, newId, openTopic, pubAck, type Topic } from "@whisper/core";
import { mqttCapabilityReasons, mqttConnections } from "@/server/whisper/drivers/mqtt";
import { BrokerProcess } from "../support/broker-process";
import { waitFor } from "../support/wait";
import type { ConformanceHarness } from "./harness";
import { runConformance } from "./suite";

const SERVER = "mqtt://127.0.0.1:1883";

let own: BrokerProcess | undefined;

/** Waits until the shared publishing connection to `server` is (dis)connected. */
function connectionState(server: string, connected: boolean): Promise<void> {
  return waitFor(() => mqttConnections().some((c) => c.server === server && c.connected === connected), {
    timeoutMs: 20_000,
    everyMs: 25,
    what: `MQTT connection to ${server} ${connected ? "connected" : "disconnected"}`,
  });
}

const harness: ConformanceHarness = {
  name: "mqtt",
  capabilities: { nack: false, redelivery: false, ordering: true, persistence: false, sharedSubscriptions: true },
  capabilityReasons: mqttCapabilityReasons,
  async teardown() {
    await own?.stop();
  },
  async newTopic() {
    const url = `${SERVER}/conformance/${newId()}`;
    return { topicUrl: url, subscriptionUrl: url };
  },
  // MQTT fails a publish only when the broker is unreachable: a private mosquitto is stopped while a keeper topic
  // holds the shared connection, so the suite's topic opens on a disconnected connection and every send fails
  // once its reconnect wait (bufferTimeoutMs) runs out; heal() restarts the broker.
  async failingTopic() {
    own ??= await BrokerProcess.mosquitto();
    const server = `mqtt://127.0.0.1:${own.port}`;
    const keeper: Topic = await openTopic(`${server}/keeper`, { use: [pubAck()] });
    await own.stop();
    await connectionState(server, false);
    const topic = `failing/${newId()}`;
    return {
      topicUrl: `${server}/${topic}?bufferTimeoutMs=50`,
      subscriptionUrl: `${server}/${topic}`,
      async heal() {
        await own!.restart();
        await connectionState(server, true);
        await keeper.publish(createMessage({ data: "reconnected" }));
      },
      async cleanup() {
        await keeper.close();
      },
    };
  },
  unknownTopic: { reason: "MQTT topics exist implicitly: any topic can be published to" },
};

runConformance(harness);
