import { beforeAll, describe, expect, it } from "vitest";
import type pg from "pg";
import { createMessage, newId, openTopic, type Topic } from "@whisper/core";
import { Recorder } from "@/server/history/recorder";
import { RETENTION_LOCK, type RetentionSettings } from "@/server/history/retention";
import { messageRow } from "@/server/history/rows";
import { insertBatch } from "@/server/history/writer";
import { listTopics, setTopicRetention, upsertTopic } from "@/server/services/topics";
import { InvalidInputError, NotFoundError } from "@/server/services/errors";
import { listAudit } from "@/server/services/audit";
import { historyDatabase } from "../support/postgres";
import { waitFor } from "../support/wait";

// Retention on real Postgres: what each limit excludes is deleted, nothing else, while the recorder keeps
// writing the same topics.
const database = historyDatabase("t_retention", { max: 6 });
let pool: pg.Pool;
const bus = `retention-${newId()}`;
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const settings: RetentionSettings = {
  defaults: { maxAgeSeconds: 24 * 3600, maxRows: null },
  auditDays: 90,
  intervalMs: 3_600_000, // passes are run explicitly below
  batchRows: 70, // several batches per topic
};
const T = {
  aged: `aged-${newId()}`, // own age limit: 1 hour
  capped: `capped-${newId()}`, // own row limit: 300, no age limit
  defaulted: `defaulted-${newId()}`, // the defaults: 1 day
  unlimited: `unlimited-${newId()}`, // no limits at all
};

beforeAll(() => {
  pool = database.pool;
});

async function insertAged(topic: string, n: number, ageMs: number, label: string): Promise<string[]> {
  const receivedAt = new Date(Date.now() - ageMs);
  const rows = Array.from({ length: n }, (_, i) => messageRow(createMessage({ id: `${label}-${i}-${newId()}`, type: label }), topic, receivedAt));
  const client = await pool.connect();
  try {
    await insertBatch(client, rows, "copy");
  } finally {
    client.release();
  }
  return rows.map((r) => r.id);
}

async function rowsOf(topic: string): Promise<Array<{ id: string; seq: number }>> {
  const { rows } = await pool.query<{ id: string; seq: string }>("SELECT id, ingest_seq AS seq FROM messages WHERE topic = $1 ORDER BY ingest_seq", [topic]);
  return rows.map((r) => ({ id: r.id, seq: Number(r.seq) }));
}

async function rowCounts(): Promise<Map<string, { kept: number; counted: number }>> {
  const { rows } = await pool.query<{ topic: string; kept: string; counted: string }>(
    "SELECT s.topic, s.row_count AS kept, (SELECT count(*) FROM messages m WHERE m.topic = s.topic) AS counted FROM topic_stats s",
  );
  return new Map(rows.map((r) => [r.topic, { kept: Number(r.kept), counted: Number(r.counted) }]));
}

describe("retention", () => {
  it("deletes what each limit excludes and nothing else, while ingest runs", async () => {
    await upsertTopic({ name: T.aged, url: `eventbus:${T.aged}?bus=${bus}`, ordering: false, retention: { maxAgeSeconds: 3600 } });
    await upsertTopic({ name: T.capped, url: `eventbus:${T.capped}?bus=${bus}`, ordering: false, retention: { maxAgeSeconds: 0, maxRows: 300 } });
    await upsertTopic({ name: T.defaulted, url: `eventbus:${T.defaulted}`, ordering: false });
    await upsertTopic({ name: T.unlimited, url: `eventbus:${T.unlimited}`, ordering: false, retention: { maxAgeSeconds: 0, maxRows: 0 } });

    const agedOld = await insertAged(T.aged, 250, 2 * HOUR, "old");
    const agedFresh = await insertAged(T.aged, 100, 10 * 60_000, "fresh");
    await insertAged(T.capped, 500, 3 * DAY, "ancient"); // beyond every age limit, but this topic has none
    await insertAged(T.capped, 500, 0, "recent");
    const defaultedOld = await insertAged(T.defaulted, 150, 2 * DAY, "old");
    const defaultedFresh = await insertAged(T.defaulted, 50, HOUR, "fresh");
    const unlimited = await insertAged(T.unlimited, 100, 30 * DAY, "ancient");

    // Audit entries and stall entries, old and new.
    await pool.query(
      `INSERT INTO audit_log (at, actor, action, target) VALUES
         (now() - interval '100 days', 'tester', 'old.action', 'x'), (now() - interval '10 days', 'tester', 'new.action', 'x')`,
    );
    await pool.query(
      `INSERT INTO stalls (id, topic, ordering_key, error, status, created_at, updated_at) VALUES
         ('s-resolved-old', 't', 'k1', 'e', 'resumed', now() - interval '200 days', now() - interval '100 days'),
         ('s-discarded-new', 't', 'k2', 'e', 'discarded', now() - interval '20 days', now() - interval '10 days'),
         ('s-open-old', 't', 'k3', 'e', 'stalled', now() - interval '200 days', now() - interval '200 days')`,
    );
    await pool.query(
      `INSERT INTO stalled_messages (stall_id, seq, message_id, type, attributes, updated_at)
       VALUES ('s-resolved-old', 1, 'm1', 't', '{}', now()), ('s-open-old', 1, 'm2', 't', '{}', now())`,
    );
    const cappedBefore = await rowsOf(T.capped);

    // Ingest keeps running on two of the topics while passes run.
    const liveCapped: string[] = []; // in commit order, which is ingest_seq order within a topic
    const recorder = new Recorder({
      pool,
      maxLatencyMs: 5,
      retention: settings,
      onRecorded: (topic, summaries) => {
        if (topic === T.capped) liveCapped.push(...summaries.map((m) => m.id));
      },
    });
    await recorder.watch(T.aged, `eventbus:${T.aged}?bus=${bus}`);
    await recorder.watch(T.capped, `eventbus:${T.capped}?bus=${bus}`);
    const topics: Topic[] = [await openTopic(`eventbus:${T.aged}?bus=${bus}`), await openTopic(`eventbus:${T.capped}?bus=${bus}`)];
    // Bursts of 40 events, each published once the recorder wrote the previous one (ingest at its own pace).
    let publishing = true;
    let published = 0;
    const recorded = () => recorder.stats().reduce((n, s) => n + s.acked, 0);
    const ingest = (async () => {
      while (publishing) {
        await Promise.all(topics.flatMap((t) => Array.from({ length: 20 }, () => t.publish(createMessage({ type: "live" })).get())));
        published += 40;
        await waitFor(() => recorded() >= published, { timeoutMs: 30_000, what: "the burst to be recorded" });
      }
    })();
    try {
      for (let pass = 0; pass < 3; pass++) {
        await waitFor(() => published >= (pass + 1) * 200, { timeoutMs: 30_000, what: "ingest to go on between passes" });
        const report = (await recorder.enforceRetention())!;
        expect(report.ran).toBe(true);
        // By age: the old rows are gone after the first pass; the fresh and the live ones are all there.
        const aged = new Set((await rowsOf(T.aged)).map((r) => r.id));
        expect(agedOld.filter((id) => aged.has(id))).toEqual([]);
        expect(agedFresh.filter((id) => !aged.has(id))).toEqual([]);
        // By count: never below the limit, and only ever the oldest (every deleted row precedes every kept one).
        const capped = await rowsOf(T.capped);
        expect(capped.length).toBeGreaterThanOrEqual(300);
        const kept = new Set(capped.map((r) => r.id));
        const deleted = cappedBefore.filter((r) => !kept.has(r.id));
        expect(Math.max(...deleted.map((r) => r.seq))).toBeLessThan(capped[0]!.seq);
      }
    } finally {
      publishing = false;
      await ingest;
      for (const t of topics) await t.close();
      await waitFor(() => recorder.stats().every((s) => s.held === 0), { what: "the recorder to write what it holds" });
    }
    // Ingest stopped: one more pass leaves exactly the newest 300 of the capped topic.
    await recorder.enforceRetention();
    await recorder.close();
    const everCapped = [...cappedBefore.map((r) => r.id), ...liveCapped];
    expect((await rowsOf(T.capped)).map((r) => r.id)).toEqual(everCapped.slice(-300));

    // The defaults apply to a topic without a setting; a topic with no limits keeps everything.
    const defaulted = new Set((await rowsOf(T.defaulted)).map((r) => r.id));
    expect(defaultedOld.filter((id) => defaulted.has(id))).toEqual([]);
    expect(defaultedFresh.every((id) => defaulted.has(id))).toBe(true);
    expect((await rowsOf(T.unlimited)).map((r) => r.id).sort()).toEqual([...unlimited].sort());

    // Counters follow the deletes exactly.
    for (const [topic, { kept, counted }] of await rowCounts()) expect(kept, topic).toBe(counted);

    // Audit log and resolved stall entries by their own period; open entries stay whatever their age.
    const { rows: audit } = await pool.query<{ action: string }>("SELECT action FROM audit_log WHERE actor = 'tester'");
    expect(audit.map((a) => a.action)).toEqual(["new.action"]);
    const { rows: stalls } = await pool.query<{ id: string }>("SELECT id FROM stalls ORDER BY id");
    expect(stalls.map((s) => s.id)).toEqual(["s-discarded-new", "s-open-old"]);
    const { rows: stalled } = await pool.query<{ stall_id: string }>("SELECT stall_id FROM stalled_messages");
    expect(stalled.map((s) => s.stall_id)).toEqual(["s-open-old"]);
  });

  it("shows each topic's retention, rows kept and oldest message in the topic summary", async () => {
    const topics = new Map((await listTopics(settings.defaults)).map((t) => [t.name, t]));
    expect(topics.get(T.aged)!.retention).toEqual({ maxAgeSeconds: 3600, maxRows: null, setting: { maxAgeSeconds: 3600, maxRows: null } });
    expect(topics.get(T.capped)!.retention).toEqual({ maxAgeSeconds: null, maxRows: 300, setting: { maxAgeSeconds: 0, maxRows: 300 } });
    expect(topics.get(T.defaulted)!.retention).toEqual({ maxAgeSeconds: 24 * 3600, maxRows: null, setting: { maxAgeSeconds: null, maxRows: null } });
    expect(topics.get(T.capped)!.keptMessages).toBe(300);
    const { rows } = await pool.query<{ topic: string; oldest: Date }>("SELECT topic, min(received_at) AS oldest FROM messages GROUP BY topic");
    for (const r of rows) expect(topics.get(r.topic)!.oldestMessageAt, r.topic).toBe(r.oldest.toISOString());
  });

  it("changes a topic's setting (audited), back to the default with null, and refuses bad settings", async () => {
    const row = await setTopicRetention(T.defaulted, { maxRows: 10 }, "tester");
    expect(row.retention).toEqual({ maxAgeSeconds: null, maxRows: 10 });
    expect((await setTopicRetention(T.defaulted, { maxRows: null }, "tester")).retention).toEqual({ maxAgeSeconds: null, maxRows: null });
    const [entry] = await listAudit({ target: T.defaulted });
    expect(entry).toMatchObject({ action: "topic.retention", details: { before: { maxRows: 10 }, after: { maxRows: null } } });
    await expect(setTopicRetention(T.defaulted, { maxRows: -1 }, "tester")).rejects.toBeInstanceOf(InvalidInputError);
    await expect(setTopicRetention(T.defaulted, { maxAgeSeconds: 1.5 }, "tester")).rejects.toBeInstanceOf(InvalidInputError);
    await expect(setTopicRetention("no-such-topic", { maxRows: 1 }, "tester")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("runs one pass at a time across replicas: a replica finding the lock taken skips its pass", async () => {
    const other = await pool.connect(); // another replica in the middle of a pass
    const recorder = new Recorder({ pool, retention: settings });
    try {
      await other.query("SELECT pg_advisory_lock($1)", [RETENTION_LOCK]);
      expect(await recorder.enforceRetention()).toMatchObject({ ran: false });
      await other.query("SELECT pg_advisory_unlock($1)", [RETENTION_LOCK]);
      expect(await recorder.enforceRetention()).toMatchObject({ ran: true });
    } finally {
      other.release();
      await recorder.close();
    }
  });
});
