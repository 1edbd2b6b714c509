import type { Channel } from "amqplib";
import { defaults } from "../../defaults.js";
import { wrapAmqpError, type AmqpConnection } from "./connection.js";
import type { AmqpUrl } from "./options.js";

/** Declares the URL's exchange (durable), or with `create=false` checks that it exists (NotFoundError if not). */
export async function ensureExchange(connection: AmqpConnection, url: AmqpUrl): Promise<void> {
  await connection
    .withChannel(async (channel: Channel) => {
      if (url.create) await channel.assertExchange(url.exchange, url.exchangeType, { durable: true });
      else await channel.checkExchange(url.exchange);
    })
    .catch((error: unknown) => {
      throw wrapAmqpError(error, connection.address.url, `AMQP exchange ${url.exchange}`);
    });
}

/**
 * Declares a subscription's quorum queue and binds it to the exchange. Named: durable, `<exchange>.<name>`,
 * kept when the subscription closes. Private: deleted on close, and by the broker `privateQueueExpiryMs` after
 * its last consumer went away (a process that died). A queue of that name declared with other arguments is an
 * InvalidOptionsError (AMQP's PRECONDITION_FAILED).
 */
export async function declareQueue(connection: AmqpConnection, url: AmqpUrl, queue: string, isPrivate: boolean): Promise<void> {
  const args: Record<string, unknown> = { "x-queue-type": "quorum" };
  if (isPrivate) args["x-expires"] = defaults.amqp.privateQueueExpiryMs;
  await connection
    .withChannel(async (channel) => {
      await channel.assertQueue(queue, { durable: true, arguments: args });
      await channel.bindQueue(queue, url.exchange, url.bindingKey);
    })
    .catch((error: unknown) => {
      throw wrapAmqpError(error, connection.address.url, `AMQP queue ${queue}`);
    });
}
