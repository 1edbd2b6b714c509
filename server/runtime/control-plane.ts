import type { LiveMessage } from "@/server/services/types";
import { describe } from "./errors";
import { MAX_PAYLOAD_BYTES, type ControlTransport } from "./control-transport";

/** What one replica tells the others. */
export type ControlEvent =
  | { kind: "hello"; liveClients: number }
  | { kind: "topic.created"; topic: string; ordering: boolean }
  | { kind: "topic.deleted"; topic: string }
  | { kind: "key.paused"; topic: string; key: string; error: string }
  | { kind: "key.resumed"; topic: string; key: string }
  | { kind: "failure"; topic: string; failing: boolean }
  | { kind: "live"; summaries: LiveMessage[]; dropped: number };

type Envelope = ControlEvent & { origin: string };

export interface ControlPlaneOptions {
  /** This replica's id (the runtime's boot id): its own events are not handed back to it. */
  origin: string;
  transport: ControlTransport;
  /** Live clients connected to this replica now (announced, so peers share live traffic only when watched). */
  liveClients(): number;
  /** An event of another replica. */
  onEvent(event: ControlEvent): void;
}

/** Live summaries shared per interval at most; the rest are counted as dropped, as the hub does. */
const LIVE_PER_FLUSH = 200;
const LIVE_FLUSH_MS = 100;
const HELLO_MS = 3_000;
/** A peer's hello counts this long. */
const PEER_TTL_MS = 10_000;

/**
 * The replicas' shared picture: topic set, paused/resumed keys, the failure toggle and live traffic.
 *
 * Contract:
 * - publish() never throws and never blocks the caller: a failed send is counted and logged (sendFailures),
 *   and the periodic catch-up of each replica repairs what a lost event left behind;
 * - live summaries recorded here are shared only while another replica announced live clients, at most
 *   LIVE_PER_FLUSH per LIVE_FLUSH_MS, split to fit a payload; what does not fit is reported as dropped;
 * - events are handed to onEvent in the order the transport delivered them; malformed payloads are ignored.
 */
export class ControlPlane {
  readonly #options: ControlPlaneOptions;
  readonly #peers = new Map<string, { liveClients: number; seenAt: number }>();
  #live: LiveMessage[] = [];
  #liveDropped = 0;
  readonly #timers: NodeJS.Timeout[] = [];
  #sendFailures = 0;
  #closed = false;

  constructor(options: ControlPlaneOptions) {
    this.#options = options;
    const hello = setInterval(() => this.publish({ kind: "hello", liveClients: options.liveClients() }), HELLO_MS);
    const live = setInterval(() => this.#flushLive(), LIVE_FLUSH_MS);
    hello.unref();
    live.unref();
    this.#timers.push(hello, live);
    this.publish({ kind: "hello", liveClients: options.liveClients() });
  }

  get transport(): ControlTransport["kind"] {
    return this.#options.transport.kind;
  }

  get sendFailures(): number {
    return this.#sendFailures;
  }

  /** Replicas heard from within PEER_TTL_MS (this one excluded). */
  peers(): number {
    this.#expirePeers();
    return this.#peers.size;
  }

  /** Tells the other replicas at once how many live clients this one has (they share live traffic only when watched). */
  announce(): void {
    this.publish({ kind: "hello", liveClients: this.#options.liveClients() });
  }

  publish(event: ControlEvent): void {
    if (this.#closed) return;
    const payload = JSON.stringify({ ...event, origin: this.#options.origin } satisfies Envelope);
    this.#options.transport.send(payload).catch((error: unknown) => {
      this.#sendFailures++;
      console.error(`whisper: control plane (${this.transport}): could not send ${event.kind}:`, describe(error));
    });
  }

  /** Shares summaries this replica recorded with replicas whose live clients should see them too. */
  shareLive(summaries: readonly LiveMessage[]): void {
    if (this.#closed || !this.#peersWatching()) return;
    const room = LIVE_PER_FLUSH - this.#live.length;
    this.#live.push(...summaries.slice(0, Math.max(0, room)));
    this.#liveDropped += Math.max(0, summaries.length - Math.max(0, room));
  }

  /** A payload received from the transport. */
  receive(payload: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(payload) as Envelope;
    } catch {
      return;
    }
    if (typeof envelope?.origin !== "string" || envelope.origin === this.#options.origin) return;
    if (envelope.kind === "hello") {
      this.#peers.set(envelope.origin, { liveClients: Number(envelope.liveClients) || 0, seenAt: Date.now() });
    }
    const { origin: _origin, ...event } = envelope;
    try {
      this.#options.onEvent(event as ControlEvent);
    } catch (error) {
      console.error(`whisper: control plane: handling ${envelope.kind} failed:`, describe(error));
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
    await this.#options.transport.close();
  }

  #peersWatching(): boolean {
    this.#expirePeers();
    for (const peer of this.#peers.values()) if (peer.liveClients > 0) return true;
    return false;
  }

  #expirePeers(): void {
    const now = Date.now();
    for (const [origin, peer] of this.#peers) if (now - peer.seenAt > PEER_TTL_MS) this.#peers.delete(origin);
  }

  /** Sends the held live summaries in payloads under the transport's size limit. */
  #flushLive(): void {
    if (this.#live.length === 0 && this.#liveDropped === 0) return;
    const summaries = this.#live;
    let dropped = this.#liveDropped;
    this.#live = [];
    this.#liveDropped = 0;
    let chunk: LiveMessage[] = [];
    let bytes = 64;
    const send = () => {
      this.publish({ kind: "live", summaries: chunk, dropped });
      dropped = 0;
      chunk = [];
      bytes = 64;
    };
    for (const summary of summaries) {
      const size = Buffer.byteLength(JSON.stringify(summary)) + 1;
      if (size + 64 > MAX_PAYLOAD_BYTES) {
        dropped++;
        continue;
      }
      if (bytes + size > MAX_PAYLOAD_BYTES) send();
      chunk.push(summary);
      bytes += size;
    }
    if (chunk.length > 0 || dropped > 0) send();
  }
}
