import { getConfig } from "../config";
import { UnavailableError } from "@/server/services/errors";
import { describe } from "./errors";
import { Runtime, type StartedBy } from "./runtime";

/**
 * The one Runtime of the process, kept with its start-up promise on globalThis: Next bundles
 * instrumentation.ts and each route apart, so module-level singletons would be duplicated; everything is
 * reached through this object, never through a route's own imports of the core.
 */

interface RuntimeSlot {
  promise: Promise<Runtime>;
  runtime?: Runtime;
  error?: unknown;
}
const SLOT = Symbol.for("whisper.runtime");
type SlotHolder = { [SLOT]?: RuntimeSlot };

/** Starts the runtime unless this process already did (or is doing) so; returns its start-up promise. */
export function startRuntime(startedBy: StartedBy): Promise<Runtime> {
  const holder = globalThis as SlotHolder;
  if (holder[SLOT]) return holder[SLOT].promise;
  const slot = {} as RuntimeSlot;
  slot.promise = (async () => Runtime.start(getConfig(), startedBy))().then(
    (runtime) => {
      slot.runtime = runtime;
      return runtime;
    },
    (error: unknown) => {
      slot.error = error;
      throw error;
    },
  );
  slot.promise.catch(() => {});
  holder[SLOT] = slot;
  return slot.promise;
}

/** The started runtime (waiting for start-up if it is under way); UnavailableError if start-up failed or it is stopping. */
export async function getRuntime(): Promise<Runtime> {
  let runtime: Runtime;
  try {
    runtime = await startRuntime("route");
  } catch (error) {
    if (error instanceof Error && error.name === "ConfigError") throw error;
    throw new UnavailableError(`whisper failed to start: ${describe(error)}`, { cause: error });
  }
  if (runtime.shuttingDown) throw new UnavailableError("the server is shutting down");
  return runtime;
}

/** The runtime if it has started, without waiting (for health and metrics). */
export function currentRuntime(): { runtime?: Runtime; error?: unknown; starting: boolean } {
  const slot = (globalThis as SlotHolder)[SLOT];
  return { runtime: slot?.runtime, error: slot?.error, starting: slot !== undefined && !slot.runtime && !slot.error };
}
