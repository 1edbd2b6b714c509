import { StorageType, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { defaults } from "../../defaults.js";
import { TimeoutError } from "../../errors.js";
import { newId } from "../../message.js";
import { ApiCodes, apiError, jittered } from "./api.js";

/**
 * A lock, shared by every process on the server, around the read-modify-write of one stream's subject list.
 * JetStream cannot do that change atomically: a stream update replaces the whole config and has no
 * compare-and-set, so two processes adding different subjects at once lose one of them (measured: half of 20
 * concurrent additions from two connections were lost without this lock).
 *
 * The lock is a message on `_whisper.lock.<STREAM>` in the memory stream WHISPER_LOCKS, published with the
 * expectation "no message on this subject yet" (the server's compare-and-set, as KV create uses). Releasing
 * purges it; the lock of a process that died holding it expires with the message (stream max_age).
 */
export const LOCK_STREAM = "WHISPER_LOCKS";
const LOCK_PREFIX = "_whisper.lock";

export type Unlock = () => Promise<void>;

/** The lock stream: memory only (locks need not survive a restart), messages expire after the lock TTL. */
async function createLockStream(jsm: JetStreamManager): Promise<void> {
  try {
    await jsm.streams.add({
      name: LOCK_STREAM,
      description: "whisper: locks around changes to the subjects of whisper-managed streams",
      subjects: [`${LOCK_PREFIX}.*`],
      storage: StorageType.Memory,
      max_age: nanos(defaults.jetstream.streamLockTtlMs),
      max_msgs_per_subject: 1,
    });
  } catch (error) {
    if (apiError(error)?.code !== ApiCodes.StreamNameExist) throw error; // another process made it
  }
}

/**
 * Takes the subject lock of `stream`, waiting (jittered polling) while another process holds it. Resolves to
 * the release function, or to undefined when the lock stream cannot exist on this server (no permission to
 * create it, or its subjects overlap a stream of the user's): the caller then works unlocked, re-reading to
 * verify its change, which does not stop a concurrent process's stale update. Rejects with TimeoutError
 * after `streamLockWaitMs` (a holder that died has lost the lock by then).
 */
export async function lockStream(js: JetStreamClient, jsm: JetStreamManager, stream: string): Promise<Unlock | undefined> {
  const subject = `${LOCK_PREFIX}.${stream}`;
  const holder = newId();
  const deadline = Date.now() + defaults.jetstream.streamLockWaitMs;
  let created = false;
  let waits = 0;
  for (;;) {
    try {
      const ack = await js.publish(subject, holder, { expect: { lastSubjectSequence: 0 } });
      if (ack.stream !== LOCK_STREAM) {
        // A stream of the user's captures lock subjects (e.g. it stores ">"): take nothing of theirs, work unlocked.
        await jsm.streams.deleteMessage(ack.stream, ack.seq, false).catch(() => {});
        return undefined;
      }
      return async () => {
        // Purges this holder's message only: anything at a later sequence belongs to a later holder.
        await jsm.streams.purge(LOCK_STREAM, { filter: subject, seq: ack.seq + 1 }).catch(() => {});
      };
    } catch (error) {
      if (apiError(error)?.code === ApiCodes.StreamWrongLastSequence) {
        if (Date.now() >= deadline) {
          throw new TimeoutError(`waiting for the subject lock of JetStream stream ${stream}`, defaults.jetstream.streamLockWaitMs);
        }
        // Slower as the wait grows (up to 10× the mean): a live holder is done in milliseconds, a dead one takes the TTL.
        const delay = jittered(defaults.jetstream.streamRetryDelayMs * Math.min(++waits, 10));
        await new Promise((resolve) => setTimeout(resolve, delay));
        continue;
      }
      if ((error as Error)?.name !== "JetStreamNotEnabled" || created) return undefined; // no responders: no lock stream yet
      created = true;
      try {
        await createLockStream(jsm);
      } catch {
        return undefined;
      }
    }
  }
}
