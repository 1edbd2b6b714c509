import { expect, signIn, snap, test } from "./fixtures";

// The demo traffic button on the topics page: starting it creates the demo topics and their traffic shows up;
// stopping it stops the traffic (the topics stay).
test("start and stop the demo traffic from the topics page", async ({ page }, testInfo) => {
  await signIn(page);
  await page.goto("/");
  const start = page.getByRole("button", { name: "Start demo traffic" });
  await expect(start).toBeEnabled();
  await start.click();

  const table = page.getByRole("table");
  for (const topic of ["demo.orders", "demo.payments", "demo.clicks", "demo.inventory"]) {
    await expect(table.getByRole("link", { name: topic, exact: true })).toBeVisible();
  }
  await expect(page.getByRole("status").filter({ hasText: /Demo traffic: [1-9][\d,]* published/ })).toBeVisible();
  const ordersRow = page.getByTestId("topic-row").filter({ has: page.getByRole("link", { name: "demo.orders", exact: true }) });
  await expect(ordersRow.getByRole("cell").first()).not.toHaveText("0");
  await snap(page, testInfo, "demo-running");

  await page.getByRole("button", { name: "Stop demo traffic" }).click();
  await expect(page.getByRole("button", { name: "Start demo traffic" })).toBeVisible();
});
