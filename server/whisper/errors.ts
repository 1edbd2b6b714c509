/**
 * Every error the whisper core raises. Each class has a stable `code` (safe to match on, never reworded)
 * and keeps the underlying error as `cause`. Drivers wrap their transport errors in these classes so
 * callers never have to know which client library is underneath.
 */

export const ErrorCode = {
  Unknown: "ERR_UNKNOWN",
  UnknownDriver: "ERR_UNKNOWN_DRIVER",
  InvalidUrl: "ERR_INVALID_URL",
  InvalidOptions: "ERR_INVALID_OPTIONS",
  InvalidMessage: "ERR_INVALID_MESSAGE",
  MessageTooLarge: "ERR_MESSAGE_TOO_LARGE",
  TopicClosed: "ERR_TOPIC_CLOSED",
  SubscriptionClosed: "ERR_SUBSCRIPTION_CLOSED",
  OrderingKeyPaused: "ERR_ORDERING_KEY_PAUSED",
  OrderingNotEnabled: "ERR_ORDERING_NOT_ENABLED",
  FlowControl: "ERR_FLOW_CONTROL",
  PublishFailed: "ERR_PUBLISH_FAILED",
  NotFound: "ERR_NOT_FOUND",
  Connection: "ERR_CONNECTION",
  Disconnected: "ERR_DISCONNECTED",
  Timeout: "ERR_TIMEOUT",
  HandlerTimeout: "ERR_HANDLER_TIMEOUT",
  Aborted: "ERR_ABORTED",
  AlreadyReceiving: "ERR_ALREADY_RECEIVING",
  DriverUnavailable: "ERR_DRIVER_UNAVAILABLE",
  PartialSend: "ERR_PARTIAL_SEND",
  SettlementFailed: "ERR_SETTLEMENT_FAILED",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class: every whisper error has a stable code and optionally a cause. */
export class WhisperError extends Error {
  readonly code: ErrorCode;
  constructor(message: string, code: ErrorCode = ErrorCode.Unknown, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The URL's scheme has no registered driver. `schemes` lists the ones that are registered. */
export class UnknownDriverError extends WhisperError {
  constructor(
    readonly scheme: string,
    readonly schemes: readonly string[],
  ) {
    super(
      `no whisper driver for scheme "${scheme}:"; registered schemes: ${schemes.map((s) => `${s}:`).join(", ")}`,
      ErrorCode.UnknownDriver,
    );
  }
}

/** A topic/subscription URL that cannot be parsed or lacks what its driver needs. */
export class InvalidUrlError extends WhisperError {
  constructor(
    readonly url: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`invalid whisper URL "${url}": ${reason}`, ErrorCode.InvalidUrl, options);
  }
}

/** An option value out of its allowed range or of the wrong type. */
export class InvalidOptionsError extends WhisperError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`invalid options: ${reason}`, ErrorCode.InvalidOptions, options);
  }
}

/** A message that is not a valid CloudEvent 1.0 or whose data cannot be serialised. */
export class InvalidMessageError extends WhisperError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`invalid message: ${reason}`, ErrorCode.InvalidMessage, options);
  }
}

/** A message larger than the driver or broker accepts. */
export class MessageTooLargeError extends WhisperError {
  constructor(
    readonly size: number,
    readonly limit: number,
    options?: { cause?: unknown },
  ) {
    super(`message of ${size} bytes exceeds the limit of ${limit} bytes`, ErrorCode.MessageTooLarge, options);
  }
}

export class TopicClosedError extends WhisperError {
  constructor(readonly topic: string) {
    super(`topic ${topic} is closed`, ErrorCode.TopicClosed);
  }
}

/** receive() or iteration was started on a subscription that is closed (or closing). */
export class SubscriptionClosedError extends WhisperError {
  constructor(readonly subscription: string) {
    super(`subscription ${subscription} is closed`, ErrorCode.SubscriptionClosed);
  }
}

/**
 * An ordered publish for `orderingKey` failed, so the key is paused: this message was either the one that
 * failed or was queued behind it, or was published while the key was paused. `cause` is the send error.
 * Nothing for the key moves until `topic.resume(orderingKey)`.
 */
export class OrderingKeyPausedError extends WhisperError {
  constructor(
    readonly orderingKey: string,
    cause: unknown,
  ) {
    super(
      `ordering key "${orderingKey}" is paused after a failed publish (${describe(cause)}); call resume("${orderingKey}")`,
      ErrorCode.OrderingKeyPaused,
      { cause },
    );
  }
}

/** A message carries an ordering key but the topic was opened without `ordering: true`. */
export class OrderingNotEnabledError extends WhisperError {
  constructor(readonly topic: string) {
    super(
      `message has an ordering key but topic ${topic} was opened without { ordering: true }`,
      ErrorCode.OrderingNotEnabled,
    );
  }
}

/** Publishing would exceed the topic's flow-control limits and the policy is "fail". */
export class FlowControlError extends WhisperError {
  constructor(reason: string) {
    super(`flow control: ${reason}`, ErrorCode.FlowControl);
  }
}

/**
 * The driver could not send a message. `retryable` says whether trying again may succeed; `retryAfterMs` is
 * the broker's own hint of when to try again (the topic waits at least that long, up to its maxDelayMs).
 */
export class PublishError extends WhisperError {
  readonly retryAfterMs: number | undefined;
  constructor(
    reason: string,
    readonly retryable: boolean,
    options?: { cause?: unknown; code?: ErrorCode; retryAfterMs?: number },
  ) {
    super(reason, options?.code ?? ErrorCode.PublishFailed, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/**
 * An HTTP endpoint answered a publish with a non-2xx status. `status` is that status, `body` the start of the
 * response body (usually application/problem+json saying why), `retryAfterMs` the Retry-After header if any.
 * The code follows the status: 404 → ERR_NOT_FOUND, 413 → ERR_MESSAGE_TOO_LARGE, else ERR_PUBLISH_FAILED.
 */
export class HttpStatusError extends PublishError {
  constructor(
    reason: string,
    readonly status: number,
    readonly body: string,
    retryable: boolean,
    retryAfterMs?: number,
  ) {
    super(reason, retryable, {
      code: status === 404 ? ErrorCode.NotFound : status === 413 ? ErrorCode.MessageTooLarge : ErrorCode.PublishFailed,
      retryAfterMs,
    });
  }
}

/**
 * What a driver's sendBatch throws when only part of a batch was sent: `failures` maps the index (in the batch)
 * of every message that was not sent to its own error; every other message was sent. A message the driver did
 * not try because another one failed first is listed with a retryable error. The portable topic resolves the
 * sent messages and retries (or rejects) each failed one by its own error; callers of a Topic never see this
 * error, only the per-message ones.
 */
export class PartialSendError extends WhisperError {
  constructor(
    readonly failures: ReadonlyMap<number, unknown>,
    readonly batchSize: number,
  ) {
    const first = failures.values().next().value;
    super(
      `${failures.size} of ${batchSize} messages not sent (first: ${describe(first)})`,
      ErrorCode.PartialSend,
      { cause: first },
    );
  }
}

/**
 * Sending acks or nacks to the broker failed. `operation` says which, `messageIds` the CloudEvents ids and
 * `ackIds` the driver's handles of the messages concerned; `cause` is the driver's error. A lost ack means the
 * message may be delivered again (at-least-once), a lost nack that it comes back only after its ack deadline.
 */
export class SettlementError extends WhisperError {
  constructor(
    readonly operation: "ack" | "nack",
    readonly messageIds: readonly string[],
    readonly ackIds: readonly unknown[],
    cause: unknown,
  ) {
    super(
      `sending ${operation}s for ${messageIds.length} message(s) failed (${describe(cause)}): ${messageIds.slice(0, 10).join(", ")}${messageIds.length > 10 ? ", …" : ""}`,
      ErrorCode.SettlementFailed,
      { cause },
    );
  }
}

/** The topic, stream or endpoint named by the URL does not exist. */
export class NotFoundError extends WhisperError {
  constructor(what: string, options?: { cause?: unknown }) {
    super(`${what} not found`, ErrorCode.NotFound, options);
  }
}

/** The connection to a broker or endpoint failed or was lost. */
export class ConnectionError extends WhisperError {
  constructor(reason: string, options?: { cause?: unknown; code?: ErrorCode }) {
    super(reason, options?.code ?? ErrorCode.Connection, options);
  }
}

export class TimeoutError extends WhisperError {
  constructor(what: string, readonly ms: number) {
    super(`${what} timed out after ${ms} ms`, ErrorCode.Timeout);
  }
}

/** A handler ran longer than the `timeout()` middleware allows; the message is nacked. */
export class HandlerTimeoutError extends WhisperError {
  constructor(readonly ms: number) {
    super(`handler did not finish within ${ms} ms`, ErrorCode.HandlerTimeout);
  }
}

export class AbortedError extends WhisperError {
  constructor(reason?: unknown) {
    super("operation aborted", ErrorCode.Aborted, { cause: reason });
  }
}

/** receive() or iteration was started on a subscription that is already being consumed. */
export class AlreadyReceivingError extends WhisperError {
  constructor(readonly subscription: string) {
    super(`subscription ${subscription} is already being received from`, ErrorCode.AlreadyReceiving);
  }
}

/**
 * A built-in driver's client library (an optional peer dependency of the package) is not installed.
 * `packages` is what `npm install` needs for the scheme.
 */
export class DriverUnavailableError extends WhisperError {
  constructor(
    readonly scheme: string,
    readonly packages: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`the ${scheme}: driver needs ${packages.join(" and ")}: npm install ${packages.join(" ")}`, ErrorCode.DriverUnavailable, options);
  }
}

/** The stable code of any error: a WhisperError's own code, else ERR_UNKNOWN. */
export function errorCode(error: unknown): ErrorCode {
  return error instanceof WhisperError ? error.code : ErrorCode.Unknown;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
