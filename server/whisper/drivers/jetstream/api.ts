import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { ConnectionError, NotFoundError, WhisperError } from "../../errors.js";
import { wrapSendError } from "../nats/index.js";

/** JetStream API error codes this driver acts on that the client library does not name. */
export const ApiCodes = {
  ...JetStreamApiCodes,
  /** Creating a stream whose name exists with another config (e.g. another process created it first). */
  StreamNameExist: 10058,
  /** Giving a stream a subject that another stream already stores. */
  StreamSubjectOverlap: 10065,
} as const;

export function apiError(error: unknown): JetStreamApiError | undefined {
  return error instanceof JetStreamApiError ? error : undefined;
}

/** Wraps a JetStream management error (stream/consumer lookups) in a coded whisper error. */
export function wrapApiError(error: unknown, server: string, what: string): WhisperError {
  if (error instanceof WhisperError) return error;
  if ((error as Error)?.name === "JetStreamNotEnabled") {
    return new ConnectionError(`JetStream is not enabled on ${server}`, { cause: error });
  }
  const api = apiError(error);
  if (api?.code === JetStreamApiCodes.StreamNotFound || api?.code === JetStreamApiCodes.ConsumerNotFound) {
    return new NotFoundError(what, { cause: error });
  }
  return wrapSendError(error, server);
}

/** `meanMs` ±50%, so processes retrying at the same moment spread out. */
export function jittered(meanMs: number): number {
  return meanMs * (0.5 + Math.random());
}
