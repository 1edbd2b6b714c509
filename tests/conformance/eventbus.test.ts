import { getBus, newId, PublishError } from "@whisper/core";
import type { ConformanceHarness } from "./harness";
import { runConformance } from "./suite";

const bus = `conformance-${newId()}`;

const harness: ConformanceHarness = {
  name: "eventbus",
  capabilities: { nack: true, redelivery: true, ordering: true, persistence: false, sharedSubscriptions: true },
  capabilityReasons: {
    persistence: "the in-process bus keeps messages only for subscriptions that exist (nothing is stored)",
  },
  async newTopic() {
    const url = `eventbus:t-${newId()}?bus=${bus}`;
    return { topicUrl: url, subscriptionUrl: url };
  },
  async failingTopic() {
    const name = `failing-${newId()}`;
    const url = `eventbus:${name}?bus=${bus}`;
    getBus(bus).setFailure(name, new PublishError("send failed on purpose", true));
    return {
      topicUrl: url,
      subscriptionUrl: url,
      async heal() {
        getBus(bus).setFailure(name, undefined);
      },
    };
  },
  unknownTopic: { reason: "in-process topics exist as soon as they are named" },
  ackDeadlineMs: 300,
};

runConformance(harness);
