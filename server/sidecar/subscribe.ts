import type { HandlerContext } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { z } from "zod";
import { topicNameSchema } from "@/server/config";
import { UnavailableError } from "@/server/services/errors";
import type { SubscribeRequest, SubscribeResponseSchema } from "./gen/whisper/v1/sidecar_pb";
import type { SidecarBackend } from "./backend";
import { authenticateCall, requireRole } from "./auth";
import { fromMessage } from "./events";
import { badArgument, toStatus } from "./status";

type Response = MessageInitShape<typeof SubscribeResponseSchema>;

/** Deliveries unsettled at once when the client asks for 0. */
export const DEFAULT_MAX_IN_FLIGHT = 100;
export const MAX_IN_FLIGHT = 10_000;
const subscriptionName = z
  .string()
  .max(200, "has at most 200 characters")
  .regex(/^[A-Za-z0-9_-]*$/, "is letters, digits, '_' and '-' (a name every broker accepts)");

/**
 * The Subscribe stream. Contract:
 * - the first client message is `open` (INVALID_ARGUMENT naming the field otherwise; a named subscription
 *   needs the admin role); the server answers `subscribed` once the core subscription is open;
 * - a delivery is sent when the core hands the handler a message; the handler holds it until the client acks
 *   or nacks its delivery id, so at most max_in_flight are unsettled and messages of one ordering key go out
 *   one at a time, in order; a nack is the core's nack (redelivered with delivery_attempt + 1 where the broker
 *   can);
 * - an unknown or already settled delivery id, or a second `open`, ends the stream with INVALID_ARGUMENT;
 * - when the client half-closes or cancels, or the stream fails, every unsettled delivery is nacked and the
 *   core subscription closed; a receive error the core gives up on ends the stream with its status.
 */
export async function* subscribeStream(
  requests: AsyncIterable<SubscribeRequest>,
  context: HandlerContext,
  backend: SidecarBackend,
): AsyncGenerator<Response> {
  const caller = authenticateCall(context, backend.settings);
  const iterator = requests[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  if (first.value.kind.case !== "open") throw badArgument([{ path: "open", message: "the first message of the stream must be open" }]);
  const open = first.value.kind.value;
  const topic = topicNameSchema.safeParse(open.topic);
  if (!topic.success) throw badArgument([{ path: "open.topic", message: topic.error.issues[0]!.message }]);
  const name = subscriptionName.safeParse(open.subscription);
  if (!name.success) throw badArgument([{ path: "open.subscription", message: name.error.issues[0]!.message }]);
  if (open.maxInFlight > MAX_IN_FLIGHT) throw badArgument([{ path: "open.max_in_flight", message: `must be at most ${MAX_IN_FLIGHT}` }]);
  if (name.data !== "" && backend.reservedSubscription(topic.data, name.data)) {
    throw badArgument([{ path: "open.subscription", message: `${JSON.stringify(name.data)} is reserved for the dashboard's recorder` }]);
  }
  if (name.data !== "") requireRole(caller, "admin", "a named subscription (it takes messages from every member of that name)");
  const maxInFlight = open.maxInFlight === 0 ? DEFAULT_MAX_IN_FLIGHT : open.maxInFlight;
  const subscription = await backend
    .subscribe(topic.data, { name: name.data === "" ? undefined : name.data, maxInFlight })
    .catch((error: unknown) => Promise.reject(toStatus(error, { topic: topic.data })));

  const out = new Outbox<Response>();
  const held = new Map<string, (outcome: "ack" | "nack") => void>();
  const stop = new AbortController();
  let failure: unknown;
  const end = (error?: unknown) => {
    if (stop.signal.aborted) return;
    failure = error;
    stop.abort();
    out.close();
    for (const settle of held.values()) settle("nack");
  };
  context.signal.addEventListener("abort", () => end(), { once: true });
  let deliveries = 0;
  const receiving = subscription.receive(
    async (message) => {
      if (stop.signal.aborted) return message.nack();
      const id = String(++deliveries);
      const outcome = new Promise<"ack" | "nack">((resolve) => held.set(id, resolve));
      out.push({ kind: { case: "delivery", value: { deliveryId: id, event: fromMessage(message), deliveryAttempt: message.deliveryAttempt } } });
      const settled = await outcome;
      held.delete(id);
      if (settled === "ack") message.ack();
      else message.nack();
    },
    { signal: stop.signal },
  );
  void receiving.then(() => end(), (error: unknown) => end(error));
  void (async () => {
    try {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        const kind = next.value.kind;
        if (kind.case === "ack" || kind.case === "nack") {
          kind.value.deliveryIds.forEach((id, i) => {
            const settle = held.get(id);
            if (settle === undefined) {
              throw badArgument([{ path: `${kind.case}.delivery_ids[${i}]`, message: `${JSON.stringify(id)} is not an unsettled delivery of this stream` }]);
            }
            held.delete(id);
            settle(kind.case);
          });
        } else {
          throw badArgument([{ path: kind.case ?? "kind", message: "only ack and nack may follow open" }]);
        }
      }
      end();
    } catch (error) {
      end(error);
    }
  })();

  try {
    yield { kind: { case: "subscribed", value: { topic: topic.data, subscription: name.data, maxInFlight } } };
    yield* out;
    // The call's signal aborts when the client cancels (nobody hears this) or the server shuts down.
    if (context.signal.aborted) throw toStatus(new UnavailableError("the sidecar is shutting down: subscribe again"));
    if (failure !== undefined) throw toStatus(failure, { topic: topic.data });
  } finally {
    end();
    await subscription.close();
  }
}

/** An unbounded queue read by one async iteration (bounded in practice: at most max_in_flight deliveries). */
class Outbox<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #closed = false;
  #wake: (() => void) | undefined;

  push(item: T): void {
    if (this.#closed) return;
    this.#items.push(item);
    this.#wake?.();
  }

  /** Ends the iteration; items not yet taken are dropped (their messages were nacked). */
  close(): void {
    this.#closed = true;
    this.#items.length = 0;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.#items.length > 0) {
        yield this.#items.shift()!;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}
