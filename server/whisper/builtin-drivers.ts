import type { Driver } from "./driver.js";
import { DriverUnavailableError } from "./errors.js";
import { registerDriver } from "./registry.js";

/**
 * Registers the built-in drivers. Each loads on first use of its scheme, so a network driver's client library
 * (an optional peer dependency) is imported only by a program that opens that scheme; if it is not installed,
 * opening fails with DriverUnavailableError naming the packages to install.
 */
export function registerBuiltinDrivers(): void {
  registerDriver("eventbus", async () => (await import("./drivers/eventbus/index.js")).eventbusDriver);
  registerDriver("http", async () => (await import("./drivers/http/index.js")).httpDriver);
  registerDriver("https", async () => (await import("./drivers/http/index.js")).httpDriver);
  const nats = ["@nats-io/transport-node", "@nats-io/jetstream"];
  registerDriver("nats", needs("nats", nats, async () => (await import("./drivers/nats/index.js")).natsDriver));
  registerDriver("jetstream", needs("jetstream", nats, async () => (await import("./drivers/jetstream/index.js")).jetstreamDriver));
  registerDriver("redis", needs("redis", ["ioredis"], async () => (await import("./drivers/redis/index.js")).redisDriver));
  registerDriver("amqp", needs("amqp", ["amqplib"], async () => (await import("./drivers/amqp/index.js")).amqpDriver));
  registerDriver("mqtt", needs("mqtt", ["mqtt"], async () => (await import("./drivers/mqtt/index.js")).mqttDriver));
}

/** `load`, with a missing package of `packages` reported as DriverUnavailableError instead of Node's resolve error. */
function needs(scheme: string, packages: readonly string[], load: () => Promise<Driver>): () => Promise<Driver> {
  return async () => {
    try {
      return await load();
    } catch (error) {
      if (packages.some((name) => isMissingPackage(error, name))) throw new DriverUnavailableError(scheme, packages, { cause: error });
      throw error;
    }
  };
}

function isMissingPackage(error: unknown, name: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && String((error as Error).message).includes(`'${name}'`);
}
