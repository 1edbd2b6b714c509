import * as grpc from "@grpc/grpc-js";
import type { Delivery, SidecarClient } from "./sidecar-client";

/**
 * A Subscribe stream driven from a test through the grpc-js client: open it, wait for deliveries, ack or nack
 * by delivery id. Everything waits on stream events (with a deadline), never on a guessed time.
 */
export interface TestSubscription {
  deliveries: Delivery[];
  /** Resolves once the stream holds at least `count` deliveries (all that arrived so far, in order). */
  waitFor(count: number, timeoutMs?: number): Promise<Delivery[]>;
  ack(...ids: string[]): void;
  nack(...ids: string[]): void;
  /** Resolves with the status the stream ended with. */
  ended: Promise<grpc.StatusObject>;
  /** Half-closes the stream (the server then nacks what it holds and ends it). */
  end(): void;
  cancel(): void;
}

export async function subscribe(
  client: SidecarClient,
  open: { topic: string; subscription?: string; maxInFlight?: number },
  metadata = client.metadata(),
): Promise<TestSubscription> {
  const call = client.client.Subscribe(metadata);
  const deliveries: Delivery[] = [];
  let waiters: Array<() => void> = [];
  const wake = () => {
    const current = waiters;
    waiters = [];
    for (const w of current) w();
  };
  let endedStatus: grpc.StatusObject | undefined;
  const ended = new Promise<grpc.StatusObject>((resolve) => {
    call.on("status", (status) => {
      endedStatus = status;
      wake();
      resolve(status);
    });
    call.on("error", () => {});
  });
  const subscribed = new Promise<void>((resolve, reject) => {
    call.on("data", (response) => {
      if (response.subscribed) resolve();
      if (response.delivery) {
        deliveries.push(response.delivery);
        wake();
      }
    });
    void ended.then((status) => reject(new Error(`stream ended before subscribed: ${status.code} ${status.details}`)));
  });
  call.write({ open: { topic: open.topic, subscription: open.subscription ?? "", maxInFlight: open.maxInFlight ?? 0 } });
  await subscribed;
  return {
    deliveries,
    async waitFor(count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (deliveries.length < count) {
        if (endedStatus) throw new Error(`stream ended (${endedStatus.code} ${endedStatus.details}) with ${deliveries.length} of ${count} deliveries`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`${deliveries.length} of ${count} deliveries within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return [...deliveries];
    },
    ack: (...ids) => void call.write({ ack: { deliveryIds: ids } }),
    nack: (...ids) => void call.write({ nack: { deliveryIds: ids } }),
    ended,
    end: () => call.end(),
    cancel: () => call.cancel(),
  };
}

/** The JSON data of a delivered text event. */
export function dataOf(delivery: Delivery): unknown {
  return JSON.parse(delivery.event.textData ?? "null");
}
