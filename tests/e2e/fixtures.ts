import { test as base, expect, type APIRequestContext, type Page, type TestInfo } from "@playwright/test";
import type { MessageDetail, MessagePage, PublishOutcome, StructuredCloudEvent } from "../../components/api/types";
import { E2E_TOKEN } from "./env";

// Shared pieces of the browser tests:
// - `api`: a request context authenticated with the bearer token, for arranging data through the HTTP API
//   (never through the database), typed by the contract's shapes;
// - signIn(page): POST /api/login from the page's own context, so the browser carries the session cookie;
// - snap(): a full-page screenshot saved into the test's output folder and attached to the report;
// - uniqueName()/eventId(): names that do not collide across tests and runs.

export type Api = {
  request: APIRequestContext;
  createTopic(name: string, ordering?: boolean): Promise<void>;
  publish(topic: string, event: StructuredCloudEvent): Promise<PublishOutcome[]>;
  setFailing(topic: string, failing: boolean): Promise<void>;
  message(id: string): Promise<MessageDetail | null>;
  messages(query: Record<string, string>): Promise<MessagePage>;
};

function makeApi(request: APIRequestContext): Api {
  return {
    request,
    async createTopic(name, ordering = false) {
      const res = await request.post("/api/topics", { data: { name, ordering } });
      expect(res.status(), `POST /api/topics ${name}: ${await res.text()}`).toBe(201);
    },
    async publish(topic, event) {
      const res = await request.post(`/api/topics/${encodeURIComponent(topic)}/events`, {
        headers: { "Content-Type": "application/cloudevents+json; charset=utf-8" },
        data: JSON.stringify(event),
      });
      expect(res.status(), `POST events to ${topic}: ${await res.text()}`).toBe(202);
      return ((await res.json()) as { results: PublishOutcome[] }).results;
    },
    async setFailing(topic, failing) {
      const res = await request.post(`/api/topics/${encodeURIComponent(topic)}/failure`, { data: { failing } });
      expect(res.status(), `POST failure ${topic}: ${await res.text()}`).toBe(200);
    },
    async message(id) {
      const res = await request.get(`/api/messages/${encodeURIComponent(id)}`);
      if (res.status() === 404) return null;
      expect(res.status(), `GET message ${id}: ${await res.text()}`).toBe(200);
      return (await res.json()) as MessageDetail;
    },
    async messages(query) {
      const res = await request.get(`/api/messages?${new URLSearchParams(query)}`);
      expect(res.status(), `GET messages: ${await res.text()}`).toBe(200);
      return (await res.json()) as MessagePage;
    },
  };
}

export const test = base.extend<{ api: Api }>({
  api: async ({ playwright, baseURL }, use) => {
    const request = await playwright.request.newContext({
      baseURL,
      extraHTTPHeaders: { Authorization: `Bearer ${E2E_TOKEN}` },
    });
    await use(makeApi(request));
    await request.dispose();
  },
});

export { expect };

/** Signs the page's browser context in (the admin token unless `token` says otherwise). */
export async function signIn(page: Page, token: string = E2E_TOKEN): Promise<void> {
  const res = await page.request.post("/api/login", { data: { token } });
  expect(res.status(), "POST /api/login").toBe(204);
}

export async function snap(page: Page, testInfo: TestInfo, name: string): Promise<string> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: "image/png" });
  return path;
}

let counter = 0;
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

export function eventId(label: string): string {
  return uniqueName(`e2e-${label}`);
}

/** A structured CloudEvent with JSON data; `extra` overrides or adds attributes and extensions. */
export function cloudEvent(extra: Partial<StructuredCloudEvent> & { id: string }): StructuredCloudEvent {
  return {
    specversion: "1.0",
    source: "/e2e/playwright",
    type: "com.example.e2e",
    datacontenttype: "application/json",
    data: { from: "e2e" },
    ...extra,
  };
}

/**
 * Retries `check` (give its expectations a short timeout) until it passes on a history list, pressing Show on the
 * "N new — show" bar whenever it is there: rows recorded after the list loaded are announced, never inserted
 * under the reader (components/topic/history-panel.tsx).
 */
export async function expectInHistory(page: Page, check: () => Promise<void>): Promise<void> {
  const announced = page.getByRole("status").filter({ hasText: /new messages? since this list was loaded/ });
  await expect(async () => {
    if (await announced.isVisible()) await announced.getByRole("button", { name: "Show" }).click();
    await check();
  }).toPass();
}

/** Waits until the history has recorded a message (the recorder writes in batches, a moment after publish). */
export async function waitForRecorded(api: Api, id: string): Promise<MessageDetail> {
  let found: MessageDetail | null = null;
  await expect
    .poll(async () => {
      found = await api.message(id);
      return found !== null;
    }, { message: `message ${id} to be recorded` })
    .toBe(true);
  return found as unknown as MessageDetail;
}
