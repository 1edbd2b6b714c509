import { z } from "zod";
import { db } from "@/server/db";
import { effectiveLimits, type RetentionLimits } from "@/server/history/retention";
import { redactUrl } from "@/server/redact";
import { retentionSettingInput } from "@/server/contract";
import { audit } from "./audit";
import { NotFoundError, parseInput } from "./errors";
import type { RetentionSetting, TopicRow, TopicSummary } from "./types";

/**
 * A topic name: dot-separated tokens of letters, digits, `_` and `-` (valid as an eventbus topic, a NATS
 * subject without wildcards and a URL path segment), at most 200 characters.
 */
export const topicNameSchema = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, "letters, digits, _ and - in dot-separated tokens");

/** A topic's own retention setting as the API takes it (server/contract/inputs.ts). */
export const retentionSettingSchema = retentionSettingInput;

export type RetentionChange = z.input<typeof retentionSettingSchema>;

const upsertSchema = z.strictObject({
  name: topicNameSchema,
  url: z.string().min(1).max(2000),
  ordering: z.boolean(),
  /** Retention to set on create or update (absent = unchanged; a new topic starts with the server defaults). */
  retention: retentionSettingSchema.optional(),
  /** Who made the change; when given, the change is written to the audit log. */
  actor: z.string().min(1).max(200).optional(),
});

/** No limits: what listTopics reports for topics without a setting when it is given no defaults. */
const NO_LIMITS: RetentionLimits = { maxAgeSeconds: null, maxRows: null };

const SPARKLINE_MINUTES = 30;

/**
 * Every managed topic with its counters, oldest first. Counts come from topic_stats/topic_minutes, which
 * the recorder (and retention) maintain in the same transaction as the rows, so this never reads `messages`.
 * `ratePerMinute` is the last 60 s estimated from the current
 * and previous minute buckets. `retentionDefaults` (the server's WHISPER_RETENTION_*) resolves the retention
 * of topics without a setting of their own.
 */
export async function listTopics(retentionDefaults: RetentionLimits = NO_LIMITS): Promise<TopicSummary[]> {
  const { prisma } = db();
  const now = Date.now();
  const currentMinute = now - (now % 60_000);
  const since = new Date(currentMinute - (SPARKLINE_MINUTES - 1) * 60_000);
  const [topics, stats, minutes, subscriptions, paused] = await Promise.all([
    prisma.topic.findMany({ orderBy: { createdAt: "asc" } }),
    prisma.topicStats.findMany(),
    prisma.topicMinute.findMany({ where: { minute: { gte: since } } }),
    prisma.subscription.findMany({ orderBy: { name: "asc" } }),
    prisma.stall.groupBy({ by: ["topic", "orderingKey"], where: { status: { in: ["stalled", "failed"] } } }),
  ]);
  const statsByTopic = new Map(stats.map((s) => [s.topic, s]));
  const sparklines = new Map<string, number[]>();
  for (const m of minutes) {
    const index = SPARKLINE_MINUTES - 1 - Math.round((currentMinute - m.minute.getTime()) / 60_000);
    if (index < 0 || index >= SPARKLINE_MINUTES) continue;
    let line = sparklines.get(m.topic);
    if (!line) sparklines.set(m.topic, (line = new Array<number>(SPARKLINE_MINUTES).fill(0)));
    line[index]! += m.count;
  }
  const pausedByTopic = new Map<string, number>();
  for (const p of paused) pausedByTopic.set(p.topic, (pausedByTopic.get(p.topic) ?? 0) + 1);
  const subscriptionsByTopic = new Map<string, string[]>();
  for (const s of subscriptions) {
    const list = subscriptionsByTopic.get(s.topic) ?? [];
    list.push(s.name);
    subscriptionsByTopic.set(s.topic, list);
  }
  const elapsedFraction = (now - currentMinute) / 60_000;
  return topics.map((t) => {
    const s = statsByTopic.get(t.name);
    const sparkline = sparklines.get(t.name) ?? new Array<number>(SPARKLINE_MINUTES).fill(0);
    const current = sparkline[SPARKLINE_MINUTES - 1]!;
    const previous = sparkline[SPARKLINE_MINUTES - 2]!;
    const setting = settingOf(t);
    return {
      name: t.name,
      url: t.url,
      ordering: t.ordering,
      messageCount: Number(s?.messageCount ?? 0),
      ratePerMinute: Math.round(current + previous * (1 - elapsedFraction)),
      lastMessageAt: s?.lastMessageAt?.toISOString() ?? null,
      subscriptions: subscriptionsByTopic.get(t.name) ?? [],
      pausedKeys: pausedByTopic.get(t.name) ?? 0,
      failing: false,
      sparkline,
      recording: null,
      retention: { ...effectiveLimits(setting, retentionDefaults), setting },
      keptMessages: Number(s?.rowCount ?? 0),
      oldestMessageAt: s?.oldestMessageAt?.toISOString() ?? null,
    };
  });
}

/** The managed topic `name`, or null. */
export async function getTopic(name: string): Promise<TopicRow | null> {
  const parsed = topicNameSchema.safeParse(name);
  if (!parsed.success) return null;
  const row = await db().prisma.topic.findUnique({ where: { name: parsed.data } });
  return row ? topicRow(row) : null;
}

/**
 * Creates the topic or updates its url/ordering (and retention, when given). Throws InvalidInputError for a
 * bad name/url/retention. With `actor`, writes `topic.create` or `topic.update` to the audit log.
 */
export async function upsertTopic(input: {
  name: string;
  url: string;
  ordering: boolean;
  retention?: RetentionChange;
  actor?: string;
}): Promise<TopicRow> {
  const parsed = parseInput(upsertSchema, input, "topic");
  const { name, ordering, retention, actor } = parsed;
  // Stored and audited without credentials: the runtime derives the URL it opens from its own configuration.
  const url = redactUrl(parsed.url);
  const { prisma } = db();
  const existed = await prisma.topic.findUnique({ where: { name }, select: { name: true } });
  const columns = retentionColumns(retention);
  const row = await prisma.topic.upsert({
    where: { name },
    create: { name, url, ordering, ...columns },
    update: { url, ordering, ...columns },
  });
  if (actor) await audit(actor, existed ? "topic.update" : "topic.create", name, { url, ordering, ...(retention ? { retention } : {}) });
  return topicRow(row);
}

/**
 * Changes a topic's own retention (per limit: a number, 0 = no limit, null = the server default; absent =
 * unchanged). The next retention pass applies it. NotFoundError for an unknown topic, InvalidInputError for a
 * bad setting; audited as `topic.retention` with the setting before and after.
 */
export async function setTopicRetention(name: string, change: RetentionChange, actor: string): Promise<TopicRow> {
  const topic = parseInput(topicNameSchema, name, "topic name");
  const retention = parseInput(retentionSettingSchema, change, "retention");
  const who = parseInput(z.string().min(1).max(200), actor, "actor");
  const { prisma } = db();
  const before = await prisma.topic.findUnique({ where: { name: topic } });
  if (!before) throw new NotFoundError("topic", topic);
  const row = await prisma.topic.update({ where: { name: topic }, data: retentionColumns(retention) });
  await audit(who, "topic.retention", topic, { before: settingOf(before), after: settingOf(row) });
  return topicRow(row);
}

function retentionColumns(retention: z.output<typeof retentionSettingSchema> | undefined) {
  return {
    ...(retention?.maxAgeSeconds !== undefined ? { retentionMaxAgeSeconds: retention.maxAgeSeconds } : {}),
    ...(retention?.maxRows !== undefined ? { retentionMaxRows: retention.maxRows } : {}),
  };
}

function settingOf(row: { retentionMaxAgeSeconds: number | null; retentionMaxRows: number | null }): RetentionSetting {
  return { maxAgeSeconds: row.retentionMaxAgeSeconds, maxRows: row.retentionMaxRows };
}

/**
 * Stops managing a topic: removes it and its subscription rows; its recorded history and counters stay.
 * Resolves to false if there was no such topic. Audited as `topic.delete`.
 */
export async function deleteTopic(name: string, actor: string): Promise<boolean> {
  const topic = parseInput(topicNameSchema, name, "topic name");
  const who = parseInput(z.string().min(1).max(200), actor, "actor");
  const { prisma } = db();
  const [, deleted] = await prisma.$transaction([
    prisma.subscription.deleteMany({ where: { topic } }),
    prisma.topic.deleteMany({ where: { name: topic } }),
  ]);
  if (deleted.count === 0) return false;
  await audit(who, "topic.delete", topic);
  return true;
}

/** Records that the dashboard holds subscription `name` on `topic` (idempotent). */
export async function registerSubscription(topic: string, name: string, url: string): Promise<void> {
  await db().prisma.subscription.upsert({
    where: { topic_name: { topic, name } },
    create: { topic, name, url },
    update: { url },
  });
}

/** Forgets a subscription row (idempotent). */
export async function unregisterSubscription(topic: string, name: string): Promise<void> {
  await db().prisma.subscription.deleteMany({ where: { topic, name } });
}

function topicRow(row: {
  name: string;
  url: string;
  ordering: boolean;
  retentionMaxAgeSeconds: number | null;
  retentionMaxRows: number | null;
  createdAt: Date;
  updatedAt: Date;
}): TopicRow {
  return {
    name: row.name,
    url: row.url,
    ordering: row.ordering,
    retention: settingOf(row),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
