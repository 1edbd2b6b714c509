import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

/**
 * The raw baseline of a JetStream durable receive (bench/nats.ts, bench/history.ts): a new durable pull consumer
 * of `subject` reads the stored messages from the first, acking each, until `count` were counted (deliveries
 * `count` refuses are acked only when it says so: it returns false to skip one). Messages/s from the first pull;
 * the consumer is deleted after.
 */
export async function rawDurableConsume(
  nc: NatsConnection,
  stream: string,
  subject: string,
  count: number,
  durable: string,
  accept: (m: JsMsg) => boolean = () => true,
): Promise<number> {
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(stream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: subject,
    max_ack_pending: 10_000,
  });
  const consumer = await jetstream(nc).consumers.get(stream, durable);
  const started = performance.now();
  const messages = await consumer.consume({ max_messages: 500 });
  let seen = 0;
  for await (const m of messages) {
    if (!accept(m)) continue;
    m.ack();
    if (++seen === count) break;
  }
  const rate = (count / (performance.now() - started)) * 1000;
  await nc.flush(); // every ack reached the server before the consumer goes
  await messages.close();
  await jsm.consumers.delete(stream, durable);
  return rate;
}
