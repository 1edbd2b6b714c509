import { AckPolicy, DeliverPolicy, type ConsumerConfig, type JetStreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { defaults } from "../../defaults.js";
import type { DriverSubscriptionOptions } from "../../driver.js";
import { InvalidOptionsError } from "../../errors.js";
import { ApiCodes, apiError, wrapApiError } from "./api.js";

/** Consumer settings this driver derives from the subscription options. */
export function consumerConfig(
  name: string,
  subject: string,
  options: DriverSubscriptionOptions,
  deliverAll: boolean,
  isPrivate: boolean,
): Partial<ConsumerConfig> {
  const config: Partial<ConsumerConfig> = {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(options.ackDeadlineMs),
    filter_subject: subject,
    max_ack_pending: defaults.jetstream.maxAckPending,
    deliver_policy: deliverAll ? DeliverPolicy.All : DeliverPolicy.New,
  };
  if (isPrivate) config.inactive_threshold = nanos(defaults.jetstream.privateInactiveMs);
  const startAt = options.startAt;
  if (startAt instanceof Date) {
    config.deliver_policy = DeliverPolicy.StartTime;
    config.opt_start_time = startAt.toISOString();
  } else if (typeof startAt === "number" && startAt > 0) {
    config.deliver_policy = DeliverPolicy.StartSequence;
    config.opt_start_seq = startAt;
  } else if (startAt === 0) {
    config.deliver_policy = DeliverPolicy.All;
  }
  return config;
}

/**
 * Finds or creates the durable consumer. Contract: an existing consumer is reused (its position kept) unless
 * `startAt` is given, which recreates it to replay from there; a consumer of that name filtering another
 * subject is an InvalidOptionsError; a changed ack deadline is applied to the existing consumer.
 */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: Partial<ConsumerConfig>,
  replay: boolean,
  server: string,
): Promise<void> {
  const name = config.durable_name!;
  let existing;
  try {
    existing = await jsm.consumers.info(stream, name);
  } catch (error) {
    if (apiError(error)?.code !== ApiCodes.ConsumerNotFound) {
      throw wrapApiError(error, server, `JetStream stream ${stream}`);
    }
  }
  if (existing !== undefined) {
    if ((existing.config.filter_subject ?? "") !== (config.filter_subject ?? "")) {
      throw new InvalidOptionsError(
        `JetStream consumer ${name} on stream ${stream} already filters "${existing.config.filter_subject ?? ""}", not "${config.filter_subject}"; use another subscription name`,
      );
    }
    if (!replay) {
      if (existing.config.ack_wait !== config.ack_wait) {
        await jsm.consumers.update(stream, name, { ack_wait: config.ack_wait }).catch((error: unknown) => {
          throw wrapApiError(error, server, `JetStream consumer ${name}`);
        });
      }
      return;
    }
    await jsm.consumers.delete(stream, name).catch(() => {});
  }
  try {
    await jsm.consumers.add(stream, config);
  } catch (error) {
    try {
      await jsm.consumers.info(stream, name); // created concurrently by another subscriber of the same name
    } catch {
      throw wrapApiError(error, server, `JetStream stream ${stream}`);
    }
  }
}
