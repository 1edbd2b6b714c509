import { createMessage, type Message } from "@whisper/core";
import type { Runtime } from "./runtime";

/**
 * Demo traffic for a first look at the dashboard (WHISPER_DEMO=1, or the button on the topics page):
 * realistic events on four topics, two of them ordered. On the in-process bus the ordered `demo.inventory`
 * topic fails on purpose for a moment every cycle, so a key stalls and the ordering board has something to
 * resume. Contract: start() is idempotent and creates missing demo topics; stop() ends the timers and resolves
 * after the last tick's publishes settled; nothing here runs unless started; a failed publish is expected
 * (stalls) and never stops the traffic.
 */

const TOPICS = [
  { name: "demo.orders", ordering: true },
  { name: "demo.payments", ordering: false },
  { name: "demo.clicks", ordering: false },
  { name: "demo.inventory", ordering: true },
] as const;

/** Publishes per tick (every TICK_MS) on the whole set of topics: about 12 messages a second. */
const TICK_MS = 250;
/** Every this many ticks (30 s) the inventory topic fails for FAIL_TICKS ticks (5 s, longer than the topic's send retries, so a key really stalls); in-process bus only. */
const FAIL_EVERY_TICKS = 120;
const FAIL_TICKS = 20;

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const customers = Array.from({ length: 12 }, (_, i) => `customer-${100 + i}`);
const skus = ["sku-kettle", "sku-teapot", "sku-mug"];
const pages = ["/", "/shop", "/shop/kettles", "/cart", "/checkout", "/account"];

export interface DemoStatus {
  running: boolean;
  topics: string[];
  published: number;
  failedOnPurpose: boolean;
}

export class DemoTraffic {
  #timer: NodeJS.Timeout | undefined;
  #tick = 0;
  #published = 0;
  #orderSeq = 1000;
  #failing = false;
  /** Ticks being published, so stop() can wait for them (its figures are final once stop() resolves). */
  readonly #stepping = new Set<Promise<void>>();

  constructor(private readonly runtime: Runtime) {}

  status(): DemoStatus {
    return {
      running: this.#timer !== undefined,
      topics: TOPICS.map((t) => t.name),
      published: this.#published,
      failedOnPurpose: this.#failing,
    };
  }

  async start(actor: string): Promise<DemoStatus> {
    if (this.#timer) return this.status();
    const existing = new Set(this.runtime.topicNames());
    for (const topic of TOPICS) {
      if (!existing.has(topic.name)) await this.runtime.addTopic(topic.name, topic.ordering, actor);
    }
    this.#timer = setInterval(() => {
      const step = this.#step().finally(() => this.#stepping.delete(step));
      this.#stepping.add(step);
    }, TICK_MS);
    this.#timer.unref();
    return this.status();
  }

  /** Stops the timer and resolves once the tick under way has been published. */
  async stop(): Promise<DemoStatus> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.all(this.#stepping);
    if (this.#failing) this.#setFailing(false);
    return this.status();
  }

  async #step(): Promise<void> {
    const tick = ++this.#tick;
    const canFail = this.runtime.config.bus.startsWith("eventbus:");
    const phase = tick % FAIL_EVERY_TICKS;
    if (canFail && phase === FAIL_EVERY_TICKS - FAIL_TICKS) this.#setFailing(true);
    if (canFail && phase === 0 && this.#failing) this.#setFailing(false);

    // The rate multiplier runs whole ticks' worth of events (plus a fractional one now and then).
    const rate = this.runtime.config.demoRate;
    const rounds = Math.floor(rate) + (Math.random() < rate - Math.floor(rate) ? 1 : 0);
    await Promise.all(Array.from({ length: rounds }, () => this.#round(tick)));
  }

  /** One tick's worth of events on every demo topic. */
  async #round(tick: number): Promise<void> {
    const orderId = `o-${this.#orderSeq++}`;
    const customer = pick(customers);
    const sends: Array<[string, Message]> = [
      ["demo.orders", event("com.shop.order.created", `/shop/orders`, orderId, customer, { orderId, customer, total: price() })],
      ["demo.clicks", click()],
      ["demo.clicks", click()],
    ];
    if (tick % 2 === 0) {
      sends.push(["demo.payments", event("com.shop.payment.authorized", "/payments", orderId, undefined, { orderId, amount: price(), method: pick(["card", "sepa", "wallet"]) })]);
      sends.push(["demo.orders", event("com.shop.order.paid", "/shop/orders", orderId, customer, { orderId })]);
    }
    if (tick % 4 === 0) {
      const sku = pick(skus);
      sends.push(["demo.inventory", event("com.shop.stock.reserved", "/warehouse", sku, sku, { sku, quantity: 1 + Math.floor(Math.random() * 3) })]);
    }
    await Promise.all(
      sends.map(async ([topic, message]) => {
        try {
          await this.runtime.publish(topic, message);
          this.#published++;
        } catch {
          // Expected while the inventory topic fails on purpose: the runtime stores the stall.
        }
      }),
    );
  }

  #setFailing(failing: boolean): void {
    this.#failing = failing;
    // The topic may have been deleted meanwhile; the next start() recreates it.
    this.runtime.setFailing("demo.inventory", failing).catch(() => (this.#failing = false));
  }
}

function event(type: string, source: string, subject: string, orderingKey: string | undefined, data: object): Message {
  return createMessage({ type, source, subject, data, orderingKey });
}

function click(): Message {
  return createMessage({
    type: "com.shop.page.viewed",
    source: "/web",
    subject: pick(pages),
    data: { page: pick(pages), session: `s-${Math.floor(Math.random() * 50)}`, ms: Math.floor(20 + Math.random() * 400) },
  });
}

function price(): number {
  return Math.round((5 + Math.random() * 195) * 100) / 100;
}

const DEMO_KEY = Symbol.for("whisper.demo");

/** The process's demo traffic source (kept on globalThis like the runtime it drives). */
export function demoFor(runtime: Runtime): DemoTraffic {
  const holder = globalThis as { [DEMO_KEY]?: DemoTraffic };
  holder[DEMO_KEY] ??= new DemoTraffic(runtime);
  return holder[DEMO_KEY];
}
