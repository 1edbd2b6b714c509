import { getTopic, listTopics } from "@/server/services/topics";
import type { LiveHub } from "../live/hub";
import type { ControlEvent } from "./control-plane";
import { describe } from "./errors";
import type { ManagedTopics } from "./managed-topics";
import type { StallKeeper } from "./stalls";

/** What a replica changes when it hears from the others or catches up from the database. */
export interface ReplicaState {
  topics: ManagedTopics;
  stalls: StallKeeper;
  hub: LiveHub;
  /** Adopts a topic the database knows (another replica created it). */
  ensureTopic(name: string): Promise<void>;
}

/**
 * Re-reads the topics and the open stalls from the database: adopts topics created elsewhere, releases topics
 * deleted elsewhere, pauses keys that have an open stalled entry and unpauses keys whose entry was resolved
 * elsewhere. Repairs whatever a lost control event left.
 */
export async function catchUp(state: ReplicaState): Promise<void> {
  const stored = new Set((await listTopics()).map((t) => t.name));
  for (const name of stored) {
    if (!state.topics.get(name)) await state.ensureTopic(name).catch((e) => console.error(`whisper: adopting ${name}:`, describe(e)));
  }
  for (const name of state.topics.names()) {
    // Read again: a topic added here after the list was read is in the database by now, and releasing it
    // would drop what the in-process bus holds for its recorder.
    if (!stored.has(name) && !(await getTopic(name))) await state.topics.release(name);
  }
  await state.stalls.syncStoredKeys(state.topics.all());
}

/** Applies another replica's event to this one. Never throws: a failure is logged (the next catch-up repairs it). */
export async function applyControlEvent(state: ReplicaState, event: ControlEvent): Promise<void> {
  const { topics, stalls, hub } = state;
  try {
    switch (event.kind) {
      case "topic.created":
        return await state.ensureTopic(event.topic);
      case "topic.deleted":
        await topics.release(event.topic);
        return;
      case "key.paused": {
        const managed = topics.get(event.topic);
        if (managed) stalls.pauseFromElsewhere(managed, event.key, `paused by another replica: ${event.error}`);
        return;
      }
      case "key.resumed":
        topics.get(event.topic)?.topic.resume(event.key);
        return;
      case "failure":
        if (topics.get(event.topic) && topics.bus()) topics.setFailing(event.topic, event.failing);
        return;
      case "live":
        hub.publish(event.summaries);
        return;
      case "hello":
        return;
    }
  } catch (error) {
    console.error(`whisper: applying ${event.kind} from another replica:`, describe(error));
  }
}
