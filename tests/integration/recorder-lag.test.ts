import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSchema, ensureBuilt, eventually, startApp, type RunningApp, type TestSchema } from "../support/app";

/**
 * A recorder that falls behind says so: its database writes are blocked on purpose (a lock held on the
 * messages table; then the table renamed away so inserts fail), and /api/health turns degraded with the
 * reason, the lag metrics rise, the topics API carries the banner text; once unblocked everything is recorded
 * and health is ok again.
 */

const TOPIC = "lag.orders";

async function event(app: RunningApp, id: string): Promise<void> {
  const response = await app.api(`/api/topics/${TOPIC}/events`, {
    method: "POST",
    headers: { "content-type": "application/cloudevents+json" },
    body: JSON.stringify({ specversion: "1.0", id, source: "/lag", type: "lag.test", data: { id } }),
  });
  expect(response.status).toBe(202);
}

async function health(app: RunningApp): Promise<{ status: string; problems: string[] }> {
  return (await app.api("/api/health")).json();
}

async function gauge(app: RunningApp, name: string): Promise<number> {
  const text = await (await app.api("/api/metrics")).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{topic="${TOPIC}"`));
  return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : NaN;
}

async function recording(app: RunningApp) {
  const { topics } = (await (await app.api("/api/topics")).json()) as {
    topics: Array<{ name: string; recording: { state: string; behindMessages: number; reason: string | null } | null }>;
  };
  return topics.find((t) => t.name === TOPIC)?.recording;
}

describe("a recorder that falls behind", () => {
  let schema: TestSchema;
  let app: RunningApp;
  let admin: pg.Client;

  beforeAll(async () => {
    await ensureBuilt();
    schema = await createSchema("lag");
    app = await startApp({
      databaseUrl: schema.databaseUrl,
      topics: TOPIC,
      env: { WHISPER_RECORDER_LAG_SECONDS: "2", WHISPER_RECORDER_LAG_MESSAGES: "1000" },
    });
    admin = new pg.Client({ connectionString: schema.databaseUrl.replace(/\?schema=.*/, "") });
    await admin.connect();
    await admin.query(`SET search_path TO "${schema.name}"`);
  }, 180_000);

  afterAll(async () => {
    await admin?.query("ROLLBACK").catch(() => {});
    await admin?.end().catch(() => {});
    await app?.stop();
    await schema?.drop();
  });

  it("is healthy while it keeps up", async () => {
    await event(app, "lag-warmup");
    await eventually(async () => ((await app.api("/api/messages/lag-warmup")).ok ? true : undefined), "the warm-up message recorded");
    await eventually(async () => ((await health(app)).status === "ok" ? true : undefined), "health ok");
    expect(await gauge(app, "whisper_recorder_behind_messages")).toBe(0);
  });

  it("turns health degraded, raises the metrics and names the topic while writes are blocked", { timeout: 60_000 }, async () => {
    await admin.query("BEGIN");
    await admin.query("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE");
    try {
      for (let i = 0; i < 50; i++) await event(app, `lag-blocked-${i}`);
      // Degraded comes with the first sample that sees work waiting; the count reaches 50 once the recorder
      // has taken every event (a sample may land between two deliveries on a loaded machine).
      const behind = new RegExp(`recording of ${TOPIC.replace(".", "\\.")} is 50 messages / \\d+ s behind`);
      const degraded = await eventually(async () => {
        const h = await health(app);
        return h.status === "degraded" && behind.test(h.problems.join("\n")) ? h : undefined;
      }, "health degraded with 50 messages behind", 30_000);
      expect(degraded.problems.join("\n")).toMatch(behind);
      expect(await gauge(app, "whisper_recorder_behind_messages")).toBe(50);
      expect(await gauge(app, "whisper_recorder_behind_seconds")).toBeGreaterThanOrEqual(2);
      expect((await recording(app))?.state).toBe("behind");
      expect((await recording(app))?.reason).toContain(`recording of ${TOPIC}`);
    } finally {
      await admin.query("COMMIT");
    }
    await eventually(async () => ((await health(app)).status === "ok" ? true : undefined), "health ok after the lock is released", 30_000);
    expect(await gauge(app, "whisper_recorder_behind_messages")).toBe(0);
    for (let i = 0; i < 50; i++) expect((await app.api(`/api/messages/lag-blocked-${i}`)).status).toBe(200);
  });

  it("says failing with the database's error while inserts fail, and recovers", { timeout: 60_000 }, async () => {
    await admin.query("ALTER TABLE messages RENAME TO messages_away");
    try {
      await event(app, "lag-failing-1");
      const failing = await eventually(async () => {
        const r = await recording(app);
        return r?.state === "failing" ? r : undefined;
      }, "recording failing", 30_000);
      expect(failing.reason).toMatch(/relation "messages" does not exist/);
      const h = await health(app);
      expect(h.status).toBe("degraded");
      expect(h.problems.join("\n")).toContain(`recording of ${TOPIC} is failing`);
      expect(await gauge(app, "whisper_recorder_healthy")).toBe(0);
    } finally {
      await admin.query("ALTER TABLE messages_away RENAME TO messages");
    }
    await eventually(async () => ((await app.api("/api/messages/lag-failing-1")).ok ? true : undefined), "the message recorded after recovery", 30_000);
    await eventually(async () => ((await health(app)).status === "ok" ? true : undefined), "health ok after recovery", 30_000);
    expect(app.output()).not.toMatch(/MaxListeners/);
  });
});
