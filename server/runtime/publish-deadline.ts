import type { Message } from "@whisper/core";
import { describe } from "./errors";

/** The outcome of one event of POST /api/topics/{topic}/events. */
export type PublishOutcome = {
  id: string;
  /** pending: not confirmed by the deadline; its retries go on and the result is counted and logged. */
  status: "published" | "failed" | "pending";
  error?: { code: string; message: string };
};

/** An ordered event the broker did not confirm within the publish deadline: its key is paused and it is stalled. */
export class PublishDeadlineError extends Error {
  readonly code = "ERR_PUBLISH_DEADLINE";
  constructor(deadlineMs: number, orderingKey: string) {
    super(
      `not confirmed by the broker within ${deadlineMs} ms; ordering key ${orderingKey} is paused and the event waits on the ordering board (Resume sends it again)`,
    );
    this.name = "PublishDeadlineError";
  }
}

/**
 * Publishes `messages` (publish() is called for each synchronously, in array order, so ordering keys keep
 * their order) and answers once all settled or `deadlineMs` passed, whichever is first.
 *
 * Contract:
 * - a message settled by then is "published" or "failed" (the error's code and message);
 * - an ordered message not settled by then is handed to `onLate` (grouped per key, in order; the caller pauses
 *   the key and stores them on the ordering board, and this waits for that) and reported "failed" with
 *   ERR_PUBLISH_DEADLINE;
 * - an unordered message not settled by then is reported "pending": its publish goes on, and a later failure
 *   is logged (never silent);
 * - `publish` rejections are never unhandled.
 */
export async function publishWithin(
  messages: readonly Message[],
  publish: (message: Message) => Promise<string>,
  deadlineMs: number,
  onLate: (late: Message[], error: PublishDeadlineError) => Promise<void>,
): Promise<PublishOutcome[]> {
  const outcomes: Array<PublishOutcome | undefined> = messages.map(() => undefined);
  const settled = messages.map((message, i) =>
    publish(message).then(
      (id) => void (outcomes[i] = { id, status: "published" }),
      (error: unknown) => void (outcomes[i] = failed(message.id, error)),
    ),
  );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(settled), new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)))]);
  clearTimeout(timer);

  const lateByKey = new Map<string, Message[]>();
  messages.forEach((message, i) => {
    if (outcomes[i] !== undefined) return;
    const key = message.orderingKey;
    if (key === undefined) {
      outcomes[i] = { id: message.id, status: "pending" };
      void settled[i]!.then(() => {
        const final = outcomes[i];
        if (final?.status === "failed") {
          console.error(`whisper: event ${message.id} (answered "pending" at the deadline) failed: ${final.error?.message}`);
        }
      });
      return;
    }
    lateByKey.set(key, [...(lateByKey.get(key) ?? []), message]);
    outcomes[i] = failed(message.id, new PublishDeadlineError(deadlineMs, key));
  });
  for (const [key, late] of lateByKey) await onLate(late, new PublishDeadlineError(deadlineMs, key));
  return outcomes as PublishOutcome[];
}

function failed(id: string, error: unknown): PublishOutcome {
  const code = (error as { code?: unknown })?.code;
  return { id, status: "failed", error: { code: typeof code === "string" ? code : "ERR_UNKNOWN", message: describe(error) } };
}
