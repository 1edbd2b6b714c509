import type { z } from "zod";
import { audit, browseAudit } from "@/server/services/audit";
import { listTopics, setTopicRetention } from "@/server/services/topics";
import { browseMessages, getMessage } from "@/server/services/messages";
import { activitySeries } from "@/server/services/activity";
import { replayMessage } from "@/server/services/replay";
import { stalledMessagePage, summarizeStalled } from "@/server/services/ordering-board";
import type { TopicSummary } from "@/server/services/types";
import type { Message } from "@whisper/core";
import { demoFor, type DemoStatus } from "../demo";
import { redactUrl } from "../redact";
import { currentRuntime, describe, getRuntime, type PublishOutcome } from "../runtime";
import type { Actor } from "./auth";
import { notFound, problem } from "./problem";
import type { auditQuery, createTopicBody, messagesQuery, replayBody, seriesQuery, shapes, updateTopicBody } from "../contract";

type Health = z.output<typeof shapes.Health>;

/**
 * The admin API's operations: what a route does once its input is parsed. Each combines the runtime (the
 * embedded core) with the data layer's services and returns the contract's JSON shapes.
 */

/** Topics from the database with the runtime's state (paused keys in the core, the failure toggle). */
export async function topicSummaries(): Promise<TopicSummary[]> {
  const runtime = await getRuntime();
  const topics = await listTopics(runtime.config.retention.defaults);
  return topics.map((t) => {
    const state = runtime.topicState(t.name);
    return {
      ...t,
      url: redactUrl(t.url),
      pausedKeys: Math.max(t.pausedKeys, state.pausedKeys),
      failing: state.failing,
      recording: runtime.lag.of(t.name) ?? null,
    };
  });
}

export async function createTopic(input: z.output<typeof createTopicBody>, actor: Actor): Promise<TopicSummary> {
  const runtime = await getRuntime();
  await runtime.addTopic(input.name, input.ordering ?? false, actor.name);
  if (input.retention) await setTopicRetention(input.name, input.retention, actor.name);
  const created = (await topicSummaries()).find((t) => t.name === input.name);
  if (!created) throw problem("internal", `topic ${input.name} was created but cannot be listed`);
  return created;
}

/** Changes what a topic's history keeps (its retention); the summary after the change. */
export async function updateTopic(name: string, input: z.output<typeof updateTopicBody>, actor: Actor): Promise<TopicSummary> {
  await getRuntime();
  await setTopicRetention(name, input.retention, actor.name);
  const updated = (await topicSummaries()).find((t) => t.name === name);
  if (!updated) throw notFound(`topic ${name} not found`);
  return updated;
}

export async function removeTopic(name: string, actor: Actor): Promise<void> {
  const runtime = await getRuntime();
  if (!(await runtime.removeTopic(name, actor.name))) throw notFound(`topic ${name} not found`);
}

export async function setFailing(name: string, failing: boolean, actor: Actor): Promise<{ failing: boolean }> {
  await (await getRuntime()).setFailing(name, failing);
  await audit(actor.name, "topic.failure", name, { failing });
  return { failing };
}

/** The demo traffic source's state; `running` starts or stops it (creating the demo topics on start). */
export async function demoStatus(): Promise<DemoStatus> {
  return demoFor(await getRuntime()).status();
}

export async function setDemo(running: boolean, actor: Actor): Promise<DemoStatus> {
  const demo = demoFor(await getRuntime());
  const status = running ? await demo.start(actor.name) : await demo.stop();
  await audit(actor.name, running ? "demo.start" : "demo.stop", "demo", { topics: status.topics });
  return status;
}

/** One page of the audit log (newest first), filtered. */
export async function auditLog(query: z.output<typeof auditQuery>) {
  await getRuntime();
  return browseAudit(query);
}

export type { PublishOutcome };

/**
 * Publishes the events in order (ordering keys honoured by the core) and reports each outcome within the
 * publish deadline (WHISPER_PUBLISH_DEADLINE_MS): published, failed, or pending.
 */
export async function publishEvents(topic: string, messages: Message[]): Promise<PublishOutcome[]> {
  const outcomes = await (await getRuntime()).publishAll(topic, messages);
  // The broker's own size limit (NATS max_payload, …) is known to the driver: one event it refused as too
  // large is the caller's mistake, a 413 like the size check before publishing.
  const only = outcomes.length === 1 ? outcomes[0]! : undefined;
  if (only?.status === "failed" && only.error?.code === "ERR_MESSAGE_TOO_LARGE") {
    throw problem("too_large", `the broker refused the event: ${only.error.message}`);
  }
  return outcomes;
}

export async function browse(query: z.output<typeof messagesQuery>) {
  await getRuntime();
  return browseMessages(query);
}

/** A topic's activity over a range (to defaults to now), for its charts. */
export async function topicSeries(topic: string, query: z.output<typeof seriesQuery>) {
  await getRuntime();
  return activitySeries(topic, new Date(query.from), query.to === undefined ? new Date() : new Date(query.to));
}

export async function messageDetail(id: string) {
  await getRuntime();
  const message = await getMessage(id);
  if (!message) throw notFound(`message ${id} not found`);
  return message;
}

export async function replay(id: string, input: z.output<typeof replayBody>, actor: Actor) {
  const runtime = await getRuntime();
  return replayMessage(id, { ...input, actor: actor.name }, async (topic, m) => {
    await runtime.ensureTopic(topic);
    return runtime.publish(topic, m);
  });
}

/** The ordering board: open stalled keys, each with counts and its first waiting messages (bounded). */
export async function stalled(topic: string | undefined) {
  await getRuntime();
  return summarizeStalled(topic);
}

/** One page of a stall entry's messages, in original order. */
export async function stalledMessages(stallId: string, page: { cursor?: number; limit: number }) {
  await getRuntime();
  return stalledMessagePage(stallId, page);
}

/** Resumes a stalled entry: resent first on its key (nothing overtakes it), then the key flows on every replica. */
export async function resume(stallId: string, actor: Actor) {
  return (await getRuntime()).resumeStall(stallId, actor.name);
}

/** Discards the stalled messages and unpauses the key in the core of every replica, so the key flows again. */
export async function discard(stallId: string, actor: Actor) {
  return (await getRuntime()).discardStall(stallId, actor.name);
}

export async function subscriptions(topic: string | undefined) {
  const runtime = await getRuntime();
  return runtime.subscriptions(topic);
}

/**
 * Health without authentication: whether the runtime and the database are up and history keeps up with the
 * traffic, nothing secret. `degraded` (200) names each reason: a topic whose recording is failing or behind
 * (WHISPER_RECORDER_LAG_SECONDS / _MESSAGES); an unreachable database is 503.
 */
/**
 * Health as the caller may see it: an anonymous caller (a load balancer) gets only `{ status }` with the same
 * HTTP status; an authenticated one gets every detail (problems, bus, database, recording, runtime).
 */
export async function healthFor(actor: Actor | undefined): Promise<{ status: number; body: Health }> {
  const full = await health();
  return actor ? full : { status: full.status, body: { status: full.body.status } };
}

export async function health(): Promise<{ status: number; body: Health }> {
  const { runtime, error, starting } = currentRuntime();
  if (!runtime) {
    return {
      status: 503,
      body: {
        status: starting ? "starting" : "error",
        detail: error ? `whisper failed to start: ${describe(error)}` : starting ? "starting up" : "not started",
      },
    };
  }
  const database = await runtime.databaseHealthy();
  const recording = runtime.lag.snapshot();
  const problems = [
    ...(database.ok ? [] : [`database ${database.detail}`]),
    ...recording.flatMap((r) => (r.reason ? [r.reason] : [])),
  ];
  const status = runtime.shuttingDown ? "stopping" : problems.length > 0 ? "degraded" : "ok";
  return {
    status: database.ok && !runtime.shuttingDown ? 200 : 503,
    body: {
      status,
      problems,
      bus: redactUrl(runtime.config.bus),
      database: database.detail,
      recording: recording.map(({ topic, state, behindMessages, behindSeconds }) => ({ topic, state, behindMessages, behindSeconds })),
      replicas: runtime.replicas(),
      runtime: { bootId: runtime.bootId, startedBy: runtime.startedBy, startedAt: runtime.startedAt.toISOString() },
    },
  };
}

export async function metricsText(): Promise<string> {
  const runtime = await getRuntime();
  const database = await runtime.databaseHealthy();
  return runtime.metrics.render({
    bootId: runtime.bootId,
    startedBy: runtime.startedBy,
    startedAt: runtime.startedAt,
    topics: runtime.topicNames().length,
    pausedKeys: runtime.pausedKeyCounts(),
    live: runtime.hub.stats(),
    recorder: runtime.recorderStats(),
    lag: runtime.lag.snapshot(),
    databaseUp: database.ok,
    replicas: runtime.replicas(),
  });
}
