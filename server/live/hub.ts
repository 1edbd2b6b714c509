import type { LiveMessage } from "@/server/services/types";

/**
 * The live fan-out hub: recorded message summaries in, one coalesced frame per client every `frameMs` out.
 *
 * Contract:
 * - publish() never blocks and never throws; each client keeps at most `maxPerFrame` summaries per frame
 *   and counts the rest as dropped, so a fast topic costs a slow browser a bounded amount of memory;
 * - a frame carries `{ messages, dropped }` (dropped = summaries this client lost since its previous frame)
 *   and is sent only when there is something to say;
 * - a client whose sink reports it is full (`send` returns false) loses that frame's messages, counted as
 *   dropped in its next frame;
 * - filters: `topic` and `type` match exactly when given.
 */

/** The summary shape the hub carries (LiveMessage of the contract). */
export type LiveSummary = LiveMessage;

export interface LiveFrame {
  messages: LiveSummary[];
  dropped: number;
}

export interface LiveFilter {
  topic?: string;
  type?: string;
}

export interface LiveClientOptions {
  filter: LiveFilter;
  /** Summaries kept per frame; the rest are dropped and counted. */
  maxPerFrame: number;
  /** Delivers a frame; returns false when the client cannot take more right now. */
  send(frame: LiveFrame): boolean;
}

interface Client extends LiveClientOptions {
  buffer: LiveSummary[];
  dropped: number;
}

export interface LiveStats {
  clients: number;
  delivered: number;
  dropped: number;
  frames: number;
}

export class LiveHub {
  readonly #clients = new Set<Client>();
  readonly #frameMs: number;
  #timer: NodeJS.Timeout | undefined;
  #delivered = 0;
  #dropped = 0;
  #frames = 0;

  readonly #onClientsChanged: ((clients: number) => void) | undefined;

  /** `onClientsChanged` hears the number of clients whenever one connects or leaves. */
  constructor({ frameMs = 100, onClientsChanged }: { frameMs?: number; onClientsChanged?: (clients: number) => void } = {}) {
    this.#frameMs = frameMs;
    this.#onClientsChanged = onClientsChanged;
  }

  /** Adds a client; returns the function that removes it. */
  subscribe(options: LiveClientOptions): () => void {
    const client: Client = { ...options, buffer: [], dropped: 0 };
    this.#clients.add(client);
    this.#arm();
    this.#onClientsChanged?.(this.#clients.size);
    return () => {
      if (!this.#clients.delete(client)) return;
      if (this.#clients.size === 0) this.#disarm();
      this.#onClientsChanged?.(this.#clients.size);
    };
  }

  publish(summaries: readonly LiveSummary[]): void {
    if (this.#clients.size === 0) return;
    for (const client of this.#clients) {
      const { topic, type } = client.filter;
      for (const summary of summaries) {
        if (topic !== undefined && summary.topic !== topic) continue;
        if (type !== undefined && summary.type !== type) continue;
        if (client.buffer.length < client.maxPerFrame) client.buffer.push(summary);
        else client.dropped++;
      }
    }
  }

  stats(): LiveStats {
    return { clients: this.#clients.size, delivered: this.#delivered, dropped: this.#dropped, frames: this.#frames };
  }

  /** Sends the pending frame of every client now (the timer calls this every frameMs). */
  flush(): void {
    for (const client of this.#clients) {
      if (client.buffer.length === 0 && client.dropped === 0) continue;
      const frame: LiveFrame = { messages: client.buffer, dropped: client.dropped };
      client.buffer = [];
      client.dropped = 0;
      let accepted: boolean;
      try {
        accepted = client.send(frame);
      } catch {
        accepted = false;
      }
      if (accepted) {
        this.#frames++;
        this.#delivered += frame.messages.length;
        this.#dropped += frame.dropped;
      } else {
        // The frame never reached the client: its messages count as dropped in the client's next frame.
        client.dropped += frame.dropped + frame.messages.length;
      }
    }
  }

  close(): void {
    this.#clients.clear();
    this.#disarm();
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.flush(), this.#frameMs);
    this.#timer.unref();
  }

  #disarm(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
