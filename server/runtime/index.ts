/**
 * The dashboard's embedded whisper core: one Runtime per process (instance.ts), made of the managed topics,
 * the stall keeper, broker figures, the control plane shared with replicas, and the recorder.
 */
export { Runtime, RECORDER_SUBSCRIPTION, type StartedBy } from "./runtime";
export { startRuntime, getRuntime, currentRuntime } from "./instance";
export { StartupError } from "./managed-topics";
export type { SubscriptionInfo } from "./broker-info";
export type { PublishOutcome } from "./publish-deadline";
export { describe, redactUrl } from "./errors";
