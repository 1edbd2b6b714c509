import { httpDefaults } from "./defaults";
import { problem } from "./problem";

/**
 * Login throttling per client address, in this process's memory (each replica counts its own; a client
 * spread over N replicas gets N times the budget, still far from a useful guessing rate). Contract:
 * - check() throws a 429 problem with Retry-After (seconds until the oldest counted failure leaves the
 *   window) once an address has `maxFailures` failures within `windowMs`;
 * - failed() counts a failure; succeeded() forgets the address;
 * - at most `maxTrackedAddresses` addresses are kept; the least recently failing is dropped first.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, number[]>();

  constructor(
    readonly maxFailures: number = httpDefaults.login.maxFailures,
    readonly windowMs: number = httpDefaults.login.windowMs,
    readonly maxTracked: number = httpDefaults.login.maxTrackedAddresses,
  ) {}

  #recent(address: string, now: number): number[] {
    const times = (this.#failures.get(address) ?? []).filter((t) => t > now - this.windowMs);
    if (times.length === 0) this.#failures.delete(address);
    return times;
  }

  check(address: string, now = Date.now()): void {
    const times = this.#recent(address, now);
    if (times.length < this.maxFailures) return;
    const retryAfter = Math.max(1, Math.ceil((times[0]! + this.windowMs - now) / 1000));
    throw problem("too_many_requests",
      `too many failed logins from ${address}: try again in ${retryAfter} s`,
      { headers: { "retry-after": String(retryAfter) } },
    );
  }

  failed(address: string, now = Date.now()): void {
    const times = this.#recent(address, now);
    times.push(now);
    this.#failures.delete(address);
    this.#failures.set(address, times.slice(-this.maxFailures));
    while (this.#failures.size > this.maxTracked) this.#failures.delete(this.#failures.keys().next().value!);
  }

  succeeded(address: string): void {
    this.#failures.delete(address);
  }
}

const KEY = Symbol.for("whisper.loginThrottle");

/** The process's throttle (on globalThis: Next bundles route files apart). */
export function loginThrottle(): LoginThrottle {
  const holder = globalThis as { [KEY]?: LoginThrottle };
  return (holder[KEY] ??= new LoginThrottle());
}
