import http from "node:http";
import { newId, openSubscription, type Subscription } from "@whisper/core";
import type { ConformanceHarness } from "./harness";
import { runConformance } from "./suite";
import { freePort } from "../support/net";

/**
 * A proxy on its own port that answers 503 until healed, then forwards every request to `target` (the
 * shared test server), so a topic pointed at it fails retryably and later reaches the real subscription.
 */
async function failingProxy(targetPort: number): Promise<{ port: number; heal(): void; close(): Promise<void> }> {
  let healed = false;
  const server = http.createServer((req, res) => {
    if (!healed) {
      req.resume();
      res.writeHead(503, { "content-type": "application/problem+json", "retry-after": "0" });
      return void res.end(JSON.stringify({ title: "Service Unavailable", status: 503, detail: "failing on purpose" }));
    }
    const upstream = http.request(
      { host: "127.0.0.1", port: targetPort, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    port,
    heal: () => void (healed = true),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * One harness per send mode and receiver answer policy: "settled" (the default: the HTTP answer waits for the
 * handler's ack/nack, so a publish resolves once handled) and "received" (answered on arrival, nacks and
 * missed deadlines redelivered in memory).
 */
function harnessFor(
  mode: "binary" | "structured" | "batch",
  respond: "settled" | "received",
  port: number,
): ConformanceHarness {
  let keeper: Subscription | undefined;
  const proxies: Array<{ close(): Promise<void> }> = [];
  const base = () => `http://127.0.0.1:${port}`;
  return {
    name: `http (${mode} mode, subscription respond=${respond})`,
    capabilities: { nack: true, redelivery: true, ordering: true, persistence: false, sharedSubscriptions: true },
    capabilityReasons: {
      persistence: "an HTTP receiver keeps nothing when nobody listens: the sender's publish fails (after its retries)",
    },
    async setup() {
      // Keeps the shared server up for the whole run, so a path nobody listens on answers 404.
      keeper = await openSubscription(`${base()}/keeper-${newId()}`);
    },
    async teardown() {
      for (const proxy of proxies) await proxy.close();
      await keeper?.close();
    },
    topicOptions: { driver: { mode } },
    subscriptionOptions: { driver: { respond } },
    async newTopic() {
      const url = `${base()}/t-${newId()}`;
      return { topicUrl: url, subscriptionUrl: url };
    },
    async failingTopic() {
      const proxy = await failingProxy(port);
      proxies.push(proxy);
      const path = `/failing-${newId()}`;
      return {
        topicUrl: `http://127.0.0.1:${proxy.port}${path}`,
        subscriptionUrl: `${base()}${path}`,
        async heal() {
          proxy.heal();
        },
      };
    },
    // The keeper holds the server up, so this path answers 404, which the topic reports as ERR_NOT_FOUND.
    unknownTopic: { url: `${base()}/nobody-${newId()}`, code: "ERR_NOT_FOUND" },
    ackDeadlineMs: 300,
  };
}

for (const [mode, respond] of [
  ["binary", "settled"],
  ["structured", "settled"],
  ["batch", "settled"],
  ["binary", "received"],
] as const) {
  runConformance(harnessFor(mode, respond, await freePort()));
}
