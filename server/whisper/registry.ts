import type { Driver } from "./driver.js";
import { InvalidUrlError, UnknownDriverError } from "./errors.js";

/** A driver, or a loader for it (so a protocol's client library loads only when its scheme is used). */
export type DriverFactory = Driver | (() => Driver | Promise<Driver>);

const factories = new Map<string, DriverFactory>();
const loaded = new Map<string, Promise<Driver>>();

/**
 * Plugs a driver in under a URL scheme (without the colon, lower-case). Registering a scheme again replaces
 * the previous driver for topics and subscriptions opened afterwards.
 */
export function registerDriver(scheme: string, factory: DriverFactory): void {
  const normalised = scheme.replace(/:$/, "").toLowerCase();
  if (!/^[a-z][a-z0-9+.-]*$/.test(normalised)) throw new InvalidUrlError(`${scheme}:`, "not a valid URL scheme");
  factories.set(normalised, factory);
  loaded.delete(normalised);
}

/** The registered schemes, sorted. */
export function registeredSchemes(): string[] {
  return [...factories.keys()].sort();
}

/** Parses a topic/subscription URL and finds its driver. Throws InvalidUrlError or UnknownDriverError. */
export async function resolveDriver(url: string | URL): Promise<{ url: URL; driver: Driver }> {
  let parsed: URL;
  try {
    parsed = typeof url === "string" ? new URL(url) : url;
  } catch (cause) {
    throw new InvalidUrlError(String(url), "not a URL (expected scheme:…, e.g. eventbus:orders)", { cause });
  }
  const scheme = parsed.protocol.slice(0, -1).toLowerCase();
  const factory = factories.get(scheme);
  if (factory === undefined) throw new UnknownDriverError(scheme, registeredSchemes());
  let driver = loaded.get(scheme);
  if (driver === undefined) {
    driver = Promise.resolve(typeof factory === "function" ? factory() : factory);
    loaded.set(scheme, driver);
    driver.catch(() => loaded.delete(scheme));
  }
  return { url: parsed, driver: await driver };
}
