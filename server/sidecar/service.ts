import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { z } from "zod";
import { topicNameSchema } from "@/server/config";
import { httpDefaults } from "@/server/http/defaults";
import { PublishOutcome_Status, PubSubService, type PublishOutcomeSchema } from "./gen/whisper/v1/sidecar_pb";
import type { PublishOutcome, SidecarBackend } from "./backend";
import { authorizeCall } from "./auth";
import { toMessage, toMessages } from "./events";
import { badArgument, grpcCodeOf, outcomeStatus, toStatus, tooLarge } from "./status";
import { subscribeStream } from "./subscribe";

/**
 * whisper.v1.PubSubService over a backend (the dashboard's Runtime or the bare core). Every handler
 * authenticates first (admin for Publish, PublishBatch, Resume and named subscriptions; viewer for the rest),
 * validates its input with the events route's rules (naming the field), then delegates; whatever is thrown
 * becomes a gRPC status (status.ts), never a crash.
 */
export function pubSubService(backend: SidecarBackend): ServiceImpl<typeof PubSubService> {
  const settings = () => backend.settings;
  return {
    publish: guarded(async (request, context) => {
      authorizeCall(context, settings(), "admin", "Publish");
      const topic = parseTopic(request.topic, "topic");
      const message = toMessage(request.event, "event", settings().maxEventBytes);
      const [outcome] = await backend.publish(topic, [message]).catch((error: unknown) => Promise.reject(toStatus(error, { topic })));
      if (outcome!.status === "published") return { id: outcome!.id };
      if (outcome!.status === "pending") {
        throw outcomeStatus(
          { code: "ERR_TIMEOUT", message: `event ${outcome!.id} not confirmed by the broker within the publish deadline (WHISPER_PUBLISH_DEADLINE_MS); its retries go on` },
          topic,
          message.orderingKey,
        );
      }
      throw outcomeStatus(outcome!.error!, topic, message.orderingKey);
    }),

    publishBatch: guarded(async (request, context) => {
      authorizeCall(context, settings(), "admin", "PublishBatch");
      const topic = parseTopic(request.topic, "topic");
      if (request.events.length === 0) throw badArgument([{ path: "events", message: "must hold at least one event" }]);
      if (request.events.length > httpDefaults.maxBatchEvents) {
        throw tooLarge(`a batch holds at most ${httpDefaults.maxBatchEvents} events, got ${request.events.length}`, "events");
      }
      const messages = toMessages(request.events, settings().maxEventBytes);
      const outcomes = await backend.publish(topic, messages).catch((error: unknown) => Promise.reject(toStatus(error, { topic })));
      return { outcomes: outcomes.map(outcomeShape) };
    }),

    subscribe(requests, context) {
      return withStatus(subscribeStream(requests, context, backend));
    },

    resume: guarded(async (request, context) => {
      const caller = authorizeCall(context, settings(), "admin", "Resume");
      const topic = parseTopic(request.topic, "topic");
      const key = parseKey(request.orderingKey);
      const resent = await backend.resume(topic, key, caller.name).catch((error: unknown) => Promise.reject(toStatus(error, { topic, orderingKey: key })));
      return { resent: resent.map(outcomeShape) };
    }),

    pausedKeys: guarded(async (request, context) => {
      authorizeCall(context, settings(), "viewer", "PausedKeys");
      const topic = parseTopic(request.topic, "topic");
      const keys = await backend.pausedKeys(topic).catch((error: unknown) => Promise.reject(toStatus(error, { topic })));
      return { keys };
    }),

    listTopics: guarded(async (_request, context) => {
      authorizeCall(context, settings(), "viewer", "ListTopics");
      return { topics: await backend.listTopics().catch((error: unknown) => Promise.reject(toStatus(error))) };
    }),
  };
}

/** The handler, with anything it throws as a gRPC status (status.ts): never an unmapped error. */
function guarded<Request, Response>(
  handler: (request: Request, context: HandlerContext) => Promise<Response>,
): (request: Request, context: HandlerContext) => Promise<Response> {
  return (request, context) => handler(request, context).catch((error: unknown) => Promise.reject(toStatus(error)));
}

const orderingKeySchema = z.string().min(1, "must not be empty").max(1024, "has at most 1,024 characters");

function parseTopic(value: string, path: string): string {
  const parsed = topicNameSchema.safeParse(value);
  if (!parsed.success) throw badArgument([{ path, message: parsed.error.issues[0]!.message }]);
  return parsed.data;
}

function parseKey(value: string): string {
  const parsed = orderingKeySchema.safeParse(value);
  if (!parsed.success) throw badArgument([{ path: "ordering_key", message: parsed.error.issues[0]!.message }]);
  return parsed.data;
}

const STATUS = { published: PublishOutcome_Status.PUBLISHED, failed: PublishOutcome_Status.FAILED, pending: PublishOutcome_Status.PENDING };

function outcomeShape(outcome: PublishOutcome): MessageInitShape<typeof PublishOutcomeSchema> {
  return {
    id: outcome.id,
    status: STATUS[outcome.status],
    error: outcome.error && { code: outcome.error.code, grpcCode: grpcCodeOf(outcome.error.code), message: outcome.error.message },
  };
}

/** Any error of a stream as a gRPC status (a ConnectError passes unchanged). */
async function* withStatus<T>(stream: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    yield* stream;
  } catch (error) {
    throw toStatus(error);
  }
}
