import http from "node:http";
import https from "node:https";
import type { DriverCapabilities, DriverTopic } from "../../driver.js";
import { ErrorCode, HttpStatusError, PublishError } from "../../errors.js";
import type { Message } from "../../message.js";
import { BATCH_CONTENT_TYPE, STRUCTURED_CONTENT_TYPE, toBatch, toBinary, toStructured } from "../../wire.js";
import { throwIfUnsent } from "../batch.js";
import { httpDefaults, type TopicSettings } from "./options.js";

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
 * - in binary and structured modes a batch that failed in part rejects with a PartialSendError: each
 *   message that was not acked maps to its own error (one never sent because another failed first to a
 *   retryable error), so the portable topic resends only those; batch mode's one request is acked or not as
 *   a whole. The topic keeps no state between attempts.
 */
export class HttpTopic implements DriverTopic {
  readonly #settings: TopicSettings;
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;
  #inFlight = 0;
  readonly #slotWaiters: Array<() => void> = [];
  #closed = false;

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

  async sendBatch(messages: readonly Message[]): Promise<void> {
    if (this.#closed) throw new PublishError(`topic ${this.#settings.target.href} is closed`, false);
    if (messages.length === 0) return;
    if (this.#settings.mode === "batch") {
      const outgoing = this.#encode(messages, () => ({
        headers: { "content-type": `${BATCH_CONTENT_TYPE}; charset=utf-8` },
        body: toBatch(messages),
        ids: messages.map((m) => m.id),
      }));
      return this.#send(outgoing);
    }
    // Lanes of indices: one per ordering key (sent in order), one per message without a key.
    const lanes: number[][] = [];
    const byKey = new Map<string, number[]>();
    messages.forEach((message, index) => {
      const key = message.orderingKey;
      if (key === undefined) return void lanes.push([index]);
      let lane = byKey.get(key);
      if (!lane) {
        byKey.set(key, (lane = []));
        lanes.push(lane);
      }
      lane.push(index);
    });
    const failures = new Map<number, unknown>();
    let firstFailure: unknown;
    await Promise.all(
      lanes.map(async (lane) => {
        for (const index of lane) {
          if (failures.size > 0) {
            failures.set(index, notSent(messages[index]!, firstFailure));
            continue;
          }
          const message = messages[index]!;
          try {
            await this.#send(this.#encode([message], () => this.#single(message)));
          } catch (error) {
            if (failures.size === 0) firstFailure = error;
            failures.set(index, error);
          }
        }
      }),
    );
    throwIfUnsent(failures, messages.length);
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

  /** Waits for a request slot (FIFO). */
  async #acquire(): Promise<void> {
    while (this.#inFlight >= this.#settings.maxInFlight) {
      await new Promise<void>((resolve) => this.#slotWaiters.push(resolve));
    }
    this.#inFlight++;
  }

  #releaseSlot(): void {
    this.#inFlight--;
    this.#slotWaiters.shift()?.();
  }

  async #send(outgoing: Outgoing): Promise<void> {
    await this.#acquire();
    try {
      await this.#post(outgoing);
    } finally {
      this.#releaseSlot();
    }
  }

  /** One POST; resolves on 2xx, rejects with a coded PublishError otherwise. */
  #post(outgoing: Outgoing): Promise<void> {
    const { target, timeoutMs } = this.#settings;
    const what = `POST ${target.origin}${target.pathname} (${outgoing.ids.length === 1 ? `message ${outgoing.ids[0]}` : `${outgoing.ids.length} messages`})`;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (error?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
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

/** The error of a message not sent because another one of its batch failed first: retryable, whatever that was. */
function notSent(message: Message, first: unknown): PublishError {
  return new PublishError(`message ${message.id} not sent: another message of its batch failed first`, true, {
    cause: first,
  });
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
