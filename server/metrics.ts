/**
 * Prometheus counters and gauges of one process, rendered in the text exposition format (version 0.0.4).
 * Contract: counters only grow; label values are escaped; render() takes the gauges it needs as arguments so
 * this module holds no references to the runtime.
 */

interface RecordedSummary {
  time: string;
  receivedAt: string;
}

export interface GaugeInputs {
  bootId: string;
  startedBy: string;
  startedAt: Date;
  topics: number;
  pausedKeys: Record<string, number>;
  live: { clients: number; delivered: number; dropped: number; frames: number };
  /** One entry per recorded topic: its `topic` plus numeric statistics (received, recorded, held, …). */
  recorder: ReadonlyArray<{ topic: string }>;
  /** The recorder's lag per topic (server/history/lag.ts). */
  lag: ReadonlyArray<{ topic: string; state: string; behindMessages: number; behindSeconds: number }>;
  databaseUp: boolean;
  /** Replicas heard from on the control channel, and control events that could not be sent. */
  replicas: { peers: number; sendFailures: number };
}

export class Metrics {
  readonly #recorded = new Map<string, number>();
  readonly #publish = new Map<string, number>();
  readonly #stallWrites = new Map<string, number>();
  #lastBatchLagSeconds = 0;

  recorded(topic: string, summaries: readonly RecordedSummary[]): void {
    this.#recorded.set(topic, (this.#recorded.get(topic) ?? 0) + summaries.length);
    const now = Date.now();
    let oldest = now;
    for (const s of summaries) {
      const t = Date.parse(s.time);
      if (Number.isFinite(t) && t < oldest) oldest = t;
    }
    this.#lastBatchLagSeconds = Math.max(0, (now - oldest) / 1000);
  }

  published(topic: string, outcome: "published" | "failed"): void {
    const key = `${topic}\u0000${outcome}`;
    this.#publish.set(key, (this.#publish.get(key) ?? 0) + 1);
  }

  /** Publishes through the core per topic since this process started (the counters of whisper_publish_total). */
  publishTotals(): Map<string, { published: number; failed: number }> {
    const out = new Map<string, { published: number; failed: number }>();
    for (const [key, n] of this.#publish) {
      const [topic = "", outcome = ""] = key.split("\u0000");
      const totals = out.get(topic) ?? { published: 0, failed: 0 };
      if (outcome === "published") totals.published += n;
      else if (outcome === "failed") totals.failed += n;
      out.set(topic, totals);
    }
    return out;
  }

  stallWrite(outcome: "ok" | "failed"): void {
    this.#stallWrites.set(outcome, (this.#stallWrites.get(outcome) ?? 0) + 1);
  }

  render(g: GaugeInputs): string {
    const out: string[] = [];
    const family = (name: string, type: "counter" | "gauge", help: string, samples: Array<[Record<string, string>, number]>) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) out.push(`${name}${formatLabels(labels)} ${formatNumber(value)}`);
    };
    family(
      "whisper_messages_recorded_total",
      "counter",
      "Messages written to the history by this process's recorder.",
      [...this.#recorded].map(([topic, n]) => [{ topic }, n]),
    );
    family(
      "whisper_publish_total",
      "counter",
      "Publishes through the embedded core, by outcome.",
      [...this.#publish].map(([key, n]) => {
        const [topic = "", outcome = ""] = key.split("\u0000");
        return [{ topic, outcome }, n];
      }),
    );
    family(
      "whisper_stall_writes_total",
      "counter",
      "Writes of stalled ordering-key messages to the database, by outcome.",
      [...this.#stallWrites].map(([outcome, n]) => [{ outcome }, n]),
    );
    family(
      "whisper_paused_keys",
      "gauge",
      "Ordering keys currently paused in the embedded core.",
      Object.entries(g.pausedKeys).map(([topic, n]) => [{ topic }, n]),
    );
    family("whisper_topics_managed", "gauge", "Topics this process manages.", [[{}, g.topics]]);
    family("whisper_live_clients", "gauge", "Connected live-traffic (SSE) clients.", [[{}, g.live.clients]]);
    family("whisper_live_frames_total", "counter", "Live frames sent.", [[{}, g.live.frames]]);
    family("whisper_live_messages_total", "counter", "Message summaries sent to live clients.", [[{}, g.live.delivered]]);
    family(
      "whisper_live_dropped_total",
      "counter",
      "Message summaries dropped for live clients (frame cap or slow client), reported to them.",
      [[{}, g.live.dropped]],
    );
    family(
      "whisper_recorder_last_batch_lag_seconds",
      "gauge",
      "Age of the oldest message (by its time attribute) in the last recorded batch, when recorded.",
      [[{}, this.#lastBatchLagSeconds]],
    );
    const recorderFamilies = new Map<string, Array<[Record<string, string>, number]>>();
    for (const stats of g.recorder) {
      for (const [name, value] of Object.entries(stats)) {
        if (typeof value !== "number" || !Number.isFinite(value)) continue;
        const samples = recorderFamilies.get(name) ?? [];
        samples.push([{ topic: stats.topic }, value]);
        recorderFamilies.set(name, samples);
      }
    }
    for (const [name, samples] of recorderFamilies) {
      const counter = RECORDER_GAUGES.has(name) ? "gauge" : "counter";
      const metric = `whisper_recorder_${snake(name)}${counter === "counter" ? "_total" : ""}`;
      family(metric, counter, `Recorder statistic "${name}" per topic.`, samples);
    }
    family(
      "whisper_recorder_behind_messages",
      "gauge",
      "Messages of the topic not yet in history (waiting at the broker plus held by the recorder).",
      g.lag.map((l) => [{ topic: l.topic }, l.behindMessages]),
    );
    family(
      "whisper_recorder_behind_seconds",
      "gauge",
      "Estimated age of the oldest message of the topic not yet in history.",
      g.lag.map((l) => [{ topic: l.topic }, l.behindSeconds]),
    );
    family(
      "whisper_recorder_healthy",
      "gauge",
      "1 while the topic's recording keeps up; 0 while it is behind or failing.",
      g.lag.map((l) => [{ topic: l.topic, state: l.state }, l.state === "ok" ? 1 : 0]),
    );
    family("whisper_replica_peers", "gauge", "Other dashboard replicas heard from on the control channel lately.", [[{}, g.replicas.peers]]);
    family(
      "whisper_control_send_failures_total",
      "counter",
      "Control events (topic, key, live) this replica could not send to the others.",
      [[{}, g.replicas.sendFailures]],
    );
    family("whisper_database_up", "gauge", "1 if the database answered the last check.", [[{}, g.databaseUp ? 1 : 0]]);
    family("whisper_runtime_info", "gauge", "The embedded core serving this process (boot id, who started it).", [
      [{ boot_id: g.bootId, started_by: g.startedBy }, 1],
    ]);
    family("whisper_start_time_seconds", "gauge", "When the embedded core started (Unix time).", [
      [{}, g.startedAt.getTime() / 1000],
    ]);
    return `${out.join("\n")}\n`;
  }
}

/** Recorder statistics that go up and down (the others only grow). "held" is the recorder's backlog. */
const RECORDER_GAUGES = new Set(["held", "heldBytes", "writesInFlight"]);

function snake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9_]/g, "_")
    .toLowerCase();
}

function formatLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`).join(",")}}`;
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
