import http from "node:http";
import https from "node:https";
import type { DriverCapabilities, DriverTopic, SendOptions } from "../../driver";
import { AbortedError, ErrorCode, HttpStatusError, PublishError } from "../../errors";
import type { Message } from "../../message";
import { BATCH_CONTENT_TYPE, STRUCTURED_CONTENT_TYPE, toBatch, toBinary, toStructured } from "../../wire";
import { httpDefaults, type TopicSettings } from "./options";

/** One request to send: its CloudEvents headers and body, and the ids it carries (for error texts). */
interface Outgoing {
  headers: Record<string, string>;
  body: Uint8Array | string;
  ids: readonly string[];
}

/**
 * A topic that POSTs CloudEvents to one URL.
 *
 * Contract:
 * - binary and structured modes send one request per message; messages with the same ordering key go one
 *   after the other (the next only once the previous was answered), the others concurrently, at most
 *   `maxInFlight` requests per topic; batch mode sends the whole batch as one request;
 * - a 2xx answer is the receiver's ack; any other status rejects with an HttpStatusError carrying the status
 *   and body, retryable for 429 and 5xx, permanent otherwise (404 → ERR_NOT_FOUND, 413 → ERR_MESSAGE_TOO_LARGE);
 *   a timeout rejects with a retryable ERR_TIMEOUT, a network failure with a retryable ERR_CONNECTION, a
 *   refused TLS certificate with a permanent ERR_CONNECTION, a message that cannot be put in headers with a
 *   permanent ERR_INVALID_MESSAGE;
 * - after the first failure of a batch no further request of that batch starts; sendBatch settles only once
 *   every request it started has finished, so a retry never overlaps its own previous attempt;
 * - when a batch fails retryably, the messages of it that were acked are remembered (weakly) and skipped
 *   when the same batch is sent again, so the portable retry does not duplicate them (batch mode excepted:
 *   its one request is acked or not as a whole).
 */
export class HttpTopic implements DriverTopic {
  readonly #settings: TopicSettings;
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;
  #inFlight = 0;
  readonly #slotWaiters: Array<() => void> = [];
  #closed = false;
  /** Messages the receiver acked in a batch that then failed retryably: the retry does not send them again. */
  readonly #ackedBeforeFailure = new WeakSet<Message>();

  constructor(
    readonly capabilities: DriverCapabilities,
    settings: TopicSettings,
  ) {
    this.#settings = settings;
    const secure = settings.target.protocol === "https:";
    this.#request = secure ? https.request : http.request;
    this.#agent = secure
      ? new https.Agent({ keepAlive: true, maxSockets: settings.maxInFlight, ...settings.tls })
      : new http.Agent({ keepAlive: true, maxSockets: settings.maxInFlight });
  }

  async sendBatch(messages: readonly Message[], options: SendOptions): Promise<void> {
    if (this.#closed) throw new PublishError(`topic ${this.#settings.target.href} is closed`, false);
    if (messages.length === 0) return;
    if (this.#settings.mode === "batch") {
      const outgoing = this.#encode(messages, () => ({
        headers: { "content-type": `${BATCH_CONTENT_TYPE}; charset=utf-8` },
        body: toBatch(messages),
        ids: messages.map((m) => m.id),
      }));
      return this.#send(outgoing, options.signal);
    }
    // Lanes: one per ordering key (sent in order), one per message without a key.
    const lanes: Message[][] = [];
    const byKey = new Map<string, Message[]>();
    for (const message of messages) {
      if (this.#ackedBeforeFailure.has(message)) continue;
      const key = message.orderingKey;
      if (key === undefined) lanes.push([message]);
      else {
        let lane = byKey.get(key);
        if (!lane) {
          byKey.set(key, (lane = []));
          lanes.push(lane);
        }
        lane.push(message);
      }
    }
    const failures: unknown[] = [];
    const acked: Message[] = [];
    await Promise.all(
      lanes.map(async (lane) => {
        for (const message of lane) {
          if (failures.length > 0) return;
          try {
            await this.#send(this.#encode([message], () => this.#single(message)), options.signal);
            acked.push(message);
          } catch (error) {
            failures.push(error);
            return;
          }
        }
      }),
    );
    if (failures.length === 0) {
      for (const message of messages) this.#ackedBeforeFailure.delete(message);
      return;
    }
    const permanent = failures.find((e) => !this.isRetryable(e));
    if (permanent) throw permanent;
    for (const message of acked) this.#ackedBeforeFailure.add(message);
    throw failures[0];
  }

  isRetryable(error: unknown): boolean {
    return error instanceof PublishError && error.retryable;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#agent.destroy();
  }

  #single(message: Message): Outgoing {
    if (this.#settings.mode === "structured") {
      return {
        headers: { "content-type": `${STRUCTURED_CONTENT_TYPE}; charset=utf-8` },
        body: toStructured(message),
        ids: [message.id],
      };
    }
    const { headers, body } = toBinary(message);
    return { headers, body, ids: [message.id] };
  }

  /** Runs an encoder; a message that cannot be put on the wire is a permanent error. */
  #encode(messages: readonly Message[], encode: () => Outgoing): Outgoing {
    try {
      return encode();
    } catch (cause) {
      throw new PublishError(
        `cannot encode ${messages.length === 1 ? `message ${messages[0]!.id}` : "batch"} for HTTP: ${(cause as Error).message}`,
        false,
        { cause, code: ErrorCode.InvalidMessage },
      );
    }
  }

  /** Waits for a request slot (FIFO); rejects with AbortedError if `signal` aborts first. */
  async #acquire(signal: AbortSignal | undefined): Promise<void> {
    while (this.#inFlight >= this.#settings.maxInFlight) {
      if (signal?.aborted) throw new AbortedError(signal.reason);
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = () => {
          const index = this.#slotWaiters.indexOf(wake);
          if (index !== -1) this.#slotWaiters.splice(index, 1);
          resolve();
        };
        this.#slotWaiters.push(wake);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    }
    if (signal?.aborted) {
      this.#slotWaiters.shift()?.(); // the slot this caller may have been woken for goes to the next one
      throw new AbortedError(signal.reason);
    }
    this.#inFlight++;
  }

  #releaseSlot(): void {
    this.#inFlight--;
    this.#slotWaiters.shift()?.();
  }

  async #send(outgoing: Outgoing, signal: AbortSignal | undefined): Promise<void> {
    await this.#acquire(signal);
    try {
      await this.#post(outgoing, signal);
    } finally {
      this.#releaseSlot();
    }
  }

  /** One POST; resolves on 2xx, rejects with a coded PublishError otherwise. */
  #post(outgoing: Outgoing, signal: AbortSignal | undefined): Promise<void> {
    const { target, timeoutMs } = this.#settings;
    const what = `POST ${target.origin}${target.pathname} (${outgoing.ids.length === 1 ? `message ${outgoing.ids[0]}` : `${outgoing.ids.length} messages`})`;
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortedError(signal.reason));
      let settled = false;
      const finish = (error?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      let request: http.ClientRequest;
      try {
        request = this.#request(target, {
          method: "POST",
          agent: this.#agent,
          headers: {
            ...this.#settings.headers,
            ...outgoing.headers,
            "content-length": String(
              typeof outgoing.body === "string" ? Buffer.byteLength(outgoing.body) : outgoing.body.byteLength,
            ),
          },
        });
      } catch (cause) {
        return finish(
          new PublishError(`${what}: cannot build the request: ${(cause as Error).message}`, false, {
            cause,
            code: ErrorCode.InvalidMessage,
          }),
        );
      }
      const timer = setTimeout(() => {
        finish(new PublishError(`${what} timed out after ${timeoutMs} ms`, true, { code: ErrorCode.Timeout }));
        request.destroy();
      }, timeoutMs);
      const onAbort = () => {
        finish(new AbortedError(signal!.reason));
        request.destroy();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      request.on("error", (cause: Error & { code?: string }) => {
        // A certificate the client refuses stays refused: retrying cannot help.
        const retryable = !isCertificateError(cause.code);
        finish(new PublishError(`${what} failed: ${cause.message}`, retryable, { cause, code: ErrorCode.Connection }));
      });
      request.on("response", (response) => {
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          response.resume();
          response.on("end", () => finish());
          response.on("close", () => {
            if (!response.complete) {
              finish(new PublishError(`${what}: the connection closed mid-response`, true, { code: ErrorCode.Connection }));
            }
          });
          response.on("error", (cause) =>
            finish(new PublishError(`${what} failed: ${cause.message}`, true, { cause, code: ErrorCode.Connection })),
          );
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          if (size < httpDefaults.maxErrorBodyChars) chunks.push(chunk);
          size += chunk.length;
        });
        const fail = () => {
          const body = Buffer.concat(chunks).toString("utf8").slice(0, httpDefaults.maxErrorBodyChars);
          const retryable = status === 429 || status >= 500;
          const retryAfterMs = parseRetryAfter(response.headers["retry-after"]);
          const detail = body.length > 0 ? `: ${body.slice(0, 300)}` : "";
          finish(
            new HttpStatusError(`${what} answered ${status} ${response.statusMessage ?? ""}${detail}`, status, body, retryable, retryAfterMs),
          );
        };
        response.on("end", fail);
        response.on("error", fail);
        response.on("close", fail);
      });
      request.end(outgoing.body);
    });
  }
}

/** Retry-After as milliseconds (delta-seconds or an HTTP date); undefined when absent or unreadable. */
function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** TLS verification failures (node's error codes), as opposed to network failures. */
function isCertificateError(code: string | undefined): boolean {
  return (
    code !== undefined &&
    (code === "ERR_TLS_CERT_ALTNAME_INVALID" ||
      code.includes("CERT") ||
      code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" ||
      code === "UNABLE_TO_GET_ISSUER_CERT_LOCALLY")
  );
}
