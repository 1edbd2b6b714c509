import { cloudEvent, eventId, expect, signIn, snap, test, uniqueName, waitForRecorded } from "./fixtures";

// Markup in message data is shown as text: no <script> in the data ever runs, whatever its encoding.
const PAYLOAD = `<script>window.__whisperPwned = "script"; alert("pwned")</script><img src=x onerror="window.__whisperPwned='img'">`;

test("markup in message data renders as text and never runs", async ({ page, api }, testInfo) => {
  const topic = uniqueName("e2e-xss");
  await api.createTopic(topic);
  const cases = [
    { id: eventId("xss-json"), event: { datacontenttype: "application/json", data: { html: PAYLOAD } } },
    { id: eventId("xss-text"), event: { datacontenttype: "text/plain", data: PAYLOAD } },
    {
      id: eventId("xss-bytes"),
      event: { datacontenttype: "application/octet-stream", data: undefined, data_base64: Buffer.from(PAYLOAD).toString("base64") },
    },
  ];
  for (const c of cases) await api.publish(topic, cloudEvent({ id: c.id, type: "com.example.e2e.xss", subject: PAYLOAD, ...c.event }));
  for (const c of cases) await waitForRecorded(api, c.id);

  const dialogs: string[] = [];
  page.on("dialog", async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  await signIn(page);

  for (const [i, c] of cases.entries()) {
    await page.goto(`/messages/${encodeURIComponent(c.id)}`);
    await expect(page.getByRole("heading", { level: 1 })).toContainText(c.id);
    // The subject attribute carries the payload too, shown verbatim.
    await expect(page.getByRole("table", { name: "CloudEvents attributes" })).toContainText("<script>window.__whisperPwned");
    if (i === 2) {
      await expect(page.getByTestId("hex-dump")).toContainText("3c 73 63 72 69 70 74 3e"); // "<script>"
      await page.getByRole("button", { name: "UTF-8" }).click();
    }
    if (i === 0) await expect(page.getByTestId("json-tree")).toContainText("<script>window.__whisperPwned");
    else await expect(page.getByTestId("data-text")).toContainText("<script>window.__whisperPwned");
    await expect(page.locator("main script")).toHaveCount(0);
    await expect(page.locator("main img")).toHaveCount(0);
    expect(await page.evaluate(() => (window as unknown as { __whisperPwned?: string }).__whisperPwned)).toBeUndefined();
    await snap(page, testInfo, `message-${["json", "text", "bytes"][i]}`);
  }

  // The topic page (live tail and history) shows the subject as text as well.
  await page.goto(`/topics/${encodeURIComponent(topic)}`);
  await expect(page.getByTestId("history-row")).toHaveCount(cases.length);
  await expect(page.locator("main script")).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __whisperPwned?: string }).__whisperPwned)).toBeUndefined();
  expect(dialogs).toEqual([]);
});
