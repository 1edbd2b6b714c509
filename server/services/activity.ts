import { db } from "@/server/db";
import { stepFor, topicActivity } from "@/server/history/activity";
import { NotFoundError } from "./errors";
import { getTopic } from "./topics";
import type { TopicSeries } from "./types";

/** The activity of a managed topic from `from` to `to` for its charts; NotFoundError for an unknown topic. */
export async function activitySeries(topic: string, from: Date, to: Date): Promise<TopicSeries> {
  if (!(await getTopic(topic))) throw new NotFoundError("topic", topic);
  const stepSeconds = stepFor(to.getTime() - from.getTime());
  const points = await topicActivity(db().pool, topic, from, to, stepSeconds);
  return {
    topic,
    from: from.toISOString(),
    to: to.toISOString(),
    stepSeconds,
    points: points.map((p) => ({ ...p, at: p.at.toISOString() })),
  };
}
