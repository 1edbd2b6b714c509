import { createMessage, newId, openTopic, pubAck, type Topic } from "@whisper/core";
import { natsCapabilityReasons } from "@/server/whisper/drivers/nats";
import { connectionState, TestNatsServer } from "../support/nats-server";
import type { ConformanceHarness } from "./harness";
import { runConformance } from "./suite";

const SHARED = "nats://127.0.0.1:4222";


let own: TestNatsServer | undefined;

const harness: ConformanceHarness = {
  name: "nats",
  capabilities: { nack: false, redelivery: false, ordering: true, persistence: false, sharedSubscriptions: true },
  capabilityReasons: natsCapabilityReasons,
  async teardown() {
    await own?.dispose();
  },
  async newTopic() {
    const url = `${SHARED}/conformance.${newId()}`;
    return { topicUrl: url, subscriptionUrl: url };
  },
  // Core NATS fails a send only when the broker is unreachable: this topic's own server is stopped while a
  // keeper topic holds the pooled connection, so the suite's topic opens on a disconnected connection and
  // every send fails once its reconnect wait (bufferTimeoutMs) runs out; heal() restarts the server.
  async failingTopic() {
    own ??= await TestNatsServer.start();
    const subject = `failing.${newId()}`;
    const keeper: Topic = await openTopic(`${own.url}/keeper`, { use: [pubAck()] });
    await own.stop();
    await connectionState(own.url, false);
    return {
      topicUrl: `${own.url}/${subject}?bufferTimeoutMs=50`,
      subscriptionUrl: `${own.url}/${subject}`,
      async heal() {
        await own!.restart();
        await connectionState(own!.url, true);
        await keeper.publish(createMessage({ data: "reconnected" }));
      },
      async cleanup() {
        await keeper.close();
      },
    };
  },
  unknownTopic: { reason: "NATS subjects exist implicitly: any subject can be published to" },
};

runConformance(harness);
