import pg from "pg";
import { E2E_DATABASE_URL, E2E_SCHEMA } from "./env";
import { cloudEvent, eventId, expect, signIn, snap, test, uniqueName, waitForRecorded } from "./fixtures";

// A recorder that cannot write is never silent in the browser: with the messages table renamed away (every
// insert fails), the topics page and the topic page show a banner naming the topic and the database's error,
// and the live badge turns amber; once the table is back, the message is recorded and the banner goes away.
test("a failing recorder shows a banner and an amber live badge until it recovers", async ({ page, api }, testInfo) => {
  const topic = uniqueName("e2e-lag");
  await api.createTopic(topic);
  await signIn(page);
  await page.goto(`/topics/${encodeURIComponent(topic)}`);
  await expect(page.getByTestId("live-status")).toHaveText("live");
  await expect(page.getByTestId("recording-banner")).toHaveCount(0);

  const admin = new pg.Client({ connectionString: E2E_DATABASE_URL.replace(/\?.*$/, "") });
  await admin.connect();
  await admin.query(`SET search_path TO "${E2E_SCHEMA}"`);
  const id = eventId("lag");
  try {
    await admin.query("ALTER TABLE messages RENAME TO messages_away");
    expect((await api.publish(topic, cloudEvent({ id }))).map((o) => o.status)).toEqual(["published"]);

    const banner = page.getByTestId("recording-banner");
    await expect(banner).toContainText(`recording of ${topic} is failing`);
    await expect(banner).toContainText('relation "messages" does not exist');
    await expect(page.getByTestId("live-status")).toHaveText("live · recording failing");
    await snap(page, testInfo, "recording-failing-topic");

    await page.goto("/");
    await expect(page.getByTestId("recording-banner").getByRole("link", { name: new RegExp(`recording of ${topic}`) })).toBeVisible();
    await snap(page, testInfo, "recording-failing-topics");
  } finally {
    await admin.query("ALTER TABLE IF EXISTS messages_away RENAME TO messages");
    await admin.end();
  }
  await waitForRecorded(api, id);
  await expect(page.getByTestId("recording-banner")).toHaveCount(0, { timeout: 20_000 });
});
