import path from "node:path";
import { cloudEvent, eventId, expect, signIn, test } from "./fixtures";

// Not a behaviour test: puts some traffic on the topics managed from the start and saves the overview as
// docs/screenshot-dashboard.png for the README (also attached to the report).
test("overview screenshot for the README", async ({ page, api }, testInfo) => {
  const traffic: [string, number, string | null][] = [
    ["e2e-demo", 12, null],
    ["e2e-orders", 7, "customer-1"],
  ];
  for (const [topic, count, key] of traffic) {
    for (let i = 0; i < count; i++) {
      const extra = key ? { orderingkey: key } : {};
      await api.publish(topic, cloudEvent({ id: eventId(topic), type: "com.example.order.created", data: { n: i }, ...extra }));
    }
  }
  await signIn(page);
  await page.goto("/");
  const demoRow = page.getByTestId("topic-row").filter({ has: page.getByRole("link", { name: "e2e-demo", exact: true }) });
  await expect(demoRow.getByRole("cell").first()).not.toHaveText("0");
  const file = path.join(path.dirname(testInfo.config.configFile ?? "."), "docs", "screenshot-dashboard.png");
  await page.screenshot({ path: file });
  await testInfo.attach("screenshot-dashboard", { path: file, contentType: "image/png" });
});
