import { openSubscription, type Message, type Subscription } from "@whisper/core";
import { topicUrl } from "@/server/config";
import { RECORDER_SUBSCRIPTION, type Runtime } from "@/server/runtime";
import { topicSummaries } from "@/server/http/api";
import { listStalled } from "@/server/services/ordering";
import { NotFoundError } from "@/server/services/errors";
import type { PausedKeyInfo, PublishOutcome, SidecarBackend, TopicInfo } from "./backend";
import { subscriptionOptions } from "./standalone-backend";

/**
 * The sidecar inside the dashboard: every call goes through the process's Runtime and the services, as the
 * admin API's routes do, so a gRPC publish is recorded in history, a paused key lands on the ordering board,
 * and Resume resends the board's stalled messages in order before the key flows again (on every replica).
 */
export class DashboardBackend implements SidecarBackend {
  constructor(readonly runtime: Runtime) {}

  get settings() {
    const { adminToken, viewerToken, maxEventBytes } = this.runtime.config;
    return { adminToken, viewerToken, maxEventBytes };
  }

  publish(topic: string, messages: readonly Message[]): Promise<PublishOutcome[]> {
    return this.runtime.publishAll(topic, messages);
  }

  async subscribe(topic: string, options: { name: string | undefined; maxInFlight: number }): Promise<Subscription> {
    await this.runtime.ensureTopic(topic);
    return openSubscription(topicUrl(this.runtime.config.bus, topic), subscriptionOptions(options));
  }

  async resume(topic: string, key: string, actor: string): Promise<PublishOutcome[]> {
    await this.runtime.ensureTopic(topic);
    const entry = (await listStalled(topic)).find((e) => e.orderingKey === key);
    if (entry === undefined) throw new NotFoundError("paused ordering key", `${topic}/${key}`);
    const { results } = await this.runtime.resumeStall(entry.id, actor);
    return results.map((r) =>
      r.status === "published"
        ? { id: r.id, status: "published" }
        : { id: r.id, status: "failed", error: { code: "ERR_PUBLISH_FAILED", message: r.error ?? "not sent" } },
    );
  }

  async pausedKeys(topic: string): Promise<PausedKeyInfo[]> {
    await this.runtime.ensureTopic(topic);
    const keys = new Map<string, PausedKeyInfo>();
    for (const entry of await listStalled(topic)) {
      const waiting = entry.messages.filter((m) => m.status === "stalled" || m.status === "failed").length;
      keys.set(entry.orderingKey, { orderingKey: entry.orderingKey, error: entry.error, stalledMessages: waiting });
    }
    for (const paused of this.runtime.pausedKeys(topic)) {
      if (!keys.has(paused.orderingKey)) {
        keys.set(paused.orderingKey, { orderingKey: paused.orderingKey, error: describeCause(paused.error), stalledMessages: 0 });
      }
    }
    return [...keys.values()];
  }

  async listTopics(): Promise<TopicInfo[]> {
    return (await topicSummaries()).map((t) => ({ name: t.name, ordering: t.ordering, pausedKeys: t.pausedKeys }));
  }

  reservedSubscription(_topic: string, name: string): boolean {
    return name.startsWith(RECORDER_SUBSCRIPTION);
  }
}

function describeCause(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
