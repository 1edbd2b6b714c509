import path from "node:path";
import { expect, type Locator, type Page } from "@playwright/test";
import { E2E_BASE_URL } from "./env";

// Checks the browser tests apply to whole pages:
// - watchHealth(): collects console errors, uncaught page errors and failed requests (network failures and
//   answers >= 400) of one page from now on; `expected` names answers a page is meant to get (a 404 the page
//   shows as "not found"), everything else counts;
// - overlapping(): pairs of elements whose boxes intersect (by more than a rounding pixel), for layout checks;
// - screenshotPath(): where the page screenshots go (test-results/screenshots/, listed in docs/screenshots.md).

export interface Health {
  /** Stops collecting and returns what was collected (call before the page goes away: closing aborts requests). */
  stop(): string[];
}

export function watchHealth(page: Page, expected: (url: URL, status: number) => boolean = () => false): Health {
  const problems: string[] = [];
  let watching = true;
  const isExpected = (href: string, status: number) => {
    const url = new URL(href);
    return url.origin === E2E_BASE_URL && expected(url, status);
  };
  page.on("console", (message) => {
    if (!watching || message.type() !== "error") return;
    // Chrome logs every answer >= 400 as a console error naming its URL; an expected answer is not a problem.
    const url = message.location().url;
    const status = /Failed to load resource: the server responded with a status of (\d+)/.exec(message.text())?.[1];
    if (status && url && isExpected(url, Number(status))) return;
    problems.push(`console error: ${message.text()} (${url})`);
  });
  page.on("pageerror", (error) => {
    if (watching) problems.push(`page error: ${error.message}`);
  });
  page.on("requestfailed", (request) => {
    if (watching) problems.push(`request failed: ${request.method()} ${request.url()}: ${request.failure()?.errorText}`);
  });
  page.on("response", (response) => {
    if (!watching || response.status() < 400 || isExpected(response.url(), response.status())) return;
    problems.push(`answer ${response.status()}: ${response.request().method()} ${response.url()}`);
  });
  return {
    stop() {
      watching = false;
      return problems;
    },
  };
}

type Box = { x: number; y: number; width: number; height: number };

/** Boxes of `locators` (each must be visible), in order. */
export async function boxesOf(locators: Locator[]): Promise<Box[]> {
  const boxes: Box[] = [];
  for (const l of locators) {
    const box = await l.boundingBox();
    expect(box, `${l} has a box (is visible)`).not.toBeNull();
    boxes.push(box!);
  }
  return boxes;
}

/** Whether two boxes share an area (touching edges and sub-pixel rounding do not count). */
function intersect(a: Box, b: Box): boolean {
  const slack = 0.5;
  return a.x + a.width - slack > b.x && b.x + b.width - slack > a.x && a.y + a.height - slack > b.y && b.y + b.height - slack > a.y;
}

/** Descriptions of the pairs of `named` elements whose boxes intersect; empty when none does. */
export async function overlapping(named: Record<string, Locator>): Promise<string[]> {
  const names = Object.keys(named);
  const boxes = await boxesOf(Object.values(named));
  const found: string[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      if (intersect(boxes[i]!, boxes[j]!)) found.push(`${names[i]} ${JSON.stringify(boxes[i])} overlaps ${names[j]} ${JSON.stringify(boxes[j])}`);
    }
  }
  return found;
}

/** Whether `inner` lies within `outer` horizontally (nothing cut off at the sides or pushed off-screen). */
export function withinWidth(inner: Box, outer: { x: number; width: number }): boolean {
  return inner.x >= outer.x - 0.5 && inner.x + inner.width <= outer.x + outer.width + 0.5;
}

/** Where the screenshot of `name` goes: test-results/screenshots/<name>.png at the repository root. */
export function screenshotPath(configFile: string | undefined, name: string): string {
  return path.join(path.dirname(configFile ?? "."), "test-results", "screenshots", `${name}.png`);
}
