import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ErrorCode, newId } from "@whisper/core";
import type { ConformanceHarness } from "./harness";
import { runConformance } from "./suite";

const SERVER = "jetstream://127.0.0.1:4222";

let nc: NatsConnection;
let jsm: JetStreamManager;

/** Deletes a stream the suite made (missing ones are fine). */
async function dropStream(name: string): Promise<void> {
  await jsm.streams.delete(name).catch(() => {});
}

const harness: ConformanceHarness = {
  name: "jetstream",
  capabilities: { nack: true, redelivery: true, ordering: true, persistence: true, sharedSubscriptions: true },
  capabilityReasons: {},
  async setup() {
    nc = await connect({ servers: "127.0.0.1:4222" });
    jsm = await jetstreamManager(nc);
  },
  async teardown() {
    await nc.close();
  },
  async newTopic() {
    const id = newId();
    const stream = `CONF_${id}`;
    const url = `${SERVER}/conformance.${id}?stream=${stream}`;
    return { topicUrl: url, subscriptionUrl: url, cleanup: () => dropStream(stream) };
  },
  // A topic URL without a stream publishes to whatever stream stores its subject: none does until heal()
  // creates one, so until then every publish gets "no responders" (retryable).
  async failingTopic() {
    const id = newId();
    const stream = `FAIL_${id}`;
    const subject = `failing.${id}`;
    return {
      topicUrl: `${SERVER}/${subject}`,
      subscriptionUrl: `${SERVER}/${subject}?stream=${stream}`,
      async heal() {
        await jsm.streams.add({ name: stream, subjects: [subject] });
      },
      cleanup: () => dropStream(stream),
    };
  },
  unknownTopic: { url: `${SERVER}/unknown.${newId()}?stream=MISSING_${newId()}&create=false`, code: ErrorCode.NotFound },
  ackDeadlineMs: 1_000,
};

runConformance(harness);
