import type { DriverCapabilities, SubscriptionOptions, TopicOptions } from "@whisper/core";

/** A fresh topic for one test: URLs nobody else uses. */
export interface HarnessTopic {
  topicUrl: string;
  /** Base URL for subscriptions to this topic (the suite adds names through options, not the URL). */
  subscriptionUrl: string;
  /** Removes what the topic left behind (streams, servers). */
  cleanup?(): Promise<void>;
}

/** A topic whose sends fail with a retryable error until heal() is called. */
export interface FailingTopic extends HarnessTopic {
  heal(): Promise<void>;
}

/**
 * What a driver gives the one conformance suite (tests/conformance/suite.ts). Each driver's test file builds
 * one and calls runConformance(harness). Tests that need a capability the driver lacks are skipped and the
 * skip names the reason given in `capabilityReasons`.
 */
export interface ConformanceHarness {
  /** Shown in test titles, e.g. "nats". */
  name: string;
  /**
   * The capabilities this driver must declare, written out in the driver's test file (never copied from the
   * driver): the suite checks the driver declares exactly these, and switches its tests on them.
   */
  capabilities: DriverCapabilities;
  /** Why each missing capability is missing, e.g. { nack: "core NATS is at-most-once" }. */
  capabilityReasons: Partial<Record<keyof DriverCapabilities, string>>;
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
  newTopic(): Promise<HarnessTopic>;
  /** Undefined means the driver cannot be made to fail on demand; give the reason in `failingTopicReason`. */
  failingTopic?(): Promise<FailingTopic>;
  failingTopicReason?: string;
  /**
   * A URL whose topic does not exist and the error code opening or publishing to it gives, or a reason why
   * the driver has no notion of an unknown topic (e.g. NATS subjects exist implicitly).
   */
  unknownTopic: { url: string; code: string } | { reason: string };
  /** Extra options the driver needs on every topic/subscription (e.g. a short ack deadline for tests). */
  topicOptions?: TopicOptions;
  subscriptionOptions?: SubscriptionOptions;
  /** Ack deadline used for the redelivery-after-timeout test (ms); must be honoured by the driver. */
  ackDeadlineMs?: number;
}
