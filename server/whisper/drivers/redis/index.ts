import type {
  Driver,
  DriverSubscription,
  DriverSubscriptionOptions,
  DriverTopic,
  DriverTopicOptions,
  SendOptions,
} from "../../driver.js";
import { ConnectionError } from "../../errors.js";
import type { Message } from "../../message.js";
import { throwIfUnsent } from "../batch.js";
import { SharedTopic, type SharedLease } from "../shared.js";
import { encodeEntry } from "./codec.js";
import { acquireRedis, isRetryableRedisError, wrapRedisError, type RedisConnection } from "./connection.js";
import { parseRedisUrl, redisCapabilities, type RedisUrl } from "./options.js";
import { openRedisSubscription } from "./subscription.js";

class RedisTopic extends SharedTopic<RedisConnection> implements DriverTopic {
  readonly capabilities = redisCapabilities;
  readonly #url: RedisUrl;

  constructor(lease: SharedLease<RedisConnection>, url: RedisUrl) {
    super(lease, `Redis stream ${url.stream}`, isRetryableRedisError);
    this.#url = url;
  }

  /** XADD arguments before the fields: the key, the trimming rule, and an auto-generated id. */
  #head(): Array<string | number> {
    const trim = this.#url.trim;
    if (trim === undefined) return [this.#url.stream, "*"];
    if ("maxLen" in trim) return [this.#url.stream, "MAXLEN", "~", trim.maxLen, "*"];
    return [this.#url.stream, "MINID", "~", `${Math.max(0, Date.now() - trim.maxAgeMs)}-0`, "*"];
  }

  /**
   * One pipeline of XADDs in batch order (one round trip; the server runs them in order). Resolves when every
   * XADD answered, whatever `options.confirm` says (a Redis command always answers). A PartialSendError names
   * each entry the server refused; a lost connection fails the whole batch (some entries may have been added:
   * a resend may duplicate them, which at-least-once allows).
   */
  async sendBatch(messages: readonly Message[], _options: SendOptions): Promise<void> {
    const connection = this.connection();
    const server = connection.address.url;
    const encoded = messages.map(encodeEntry);
    const wait = connection.whenReady(this.#url.bufferTimeoutMs);
    if (wait !== undefined) await wait;
    const pipeline = connection.client.pipeline();
    for (const fields of encoded) pipeline.xadd(...([...this.#head(), ...fields] as [string, ...Array<string | Buffer | number>]));
    let results: Array<[Error | null, unknown]> | null;
    try {
      results = await pipeline.exec();
    } catch (error) {
      throw wrapRedisError(error, server, `XADD to ${this.#url.stream}`);
    }
    if (results === null) throw new ConnectionError(`connection to Redis at ${server} lost during XADD to ${this.#url.stream}`);
    const failures = new Map<number, unknown>();
    results.forEach(([error], index) => {
      if (error) failures.set(index, wrapRedisError(error, server, `XADD to ${this.#url.stream}`));
    });
    throwIfUnsent(failures, messages.length);
  }
}

export const redisDriver: Driver = {
  async openTopic(url: URL, options: DriverTopicOptions): Promise<DriverTopic> {
    const parsed = parseRedisUrl(url, options.driver);
    return new RedisTopic(await acquireRedis(parsed.address), parsed);
  },

  async openSubscription(url: URL, options: DriverSubscriptionOptions): Promise<DriverSubscription> {
    return openRedisSubscription(parseRedisUrl(url, options.driver), options);
  },
};

export { redisConnections } from "./connection.js";
export { redisCapabilities } from "./options.js";
