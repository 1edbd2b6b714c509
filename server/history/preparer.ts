import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { historyDefaults } from "./defaults";
import { packItems, prepareBatch, type PrepareItem, type Prepared } from "./prepare";

type Pending = { resolve(prepared: Prepared): void; topic: string; items: readonly PrepareItem[] };

/**
 * Prepares batches (prepare.ts) in a worker thread, so that decoding and COPY text use the second core while
 * this thread receives, writes and acks.
 *
 * Contract: prepare() never rejects; batches smaller than `minWorkerBatch` are prepared in this thread, and so
 * are all until the worker (started by warmUp() or the first prepare()) has loaded; if the worker cannot start, fails a request or exits, that batch (and
 * every request still pending on it) is prepared in this thread instead, the failure is reported once per
 * worker, and batches are prepared here for workerRestartDelayMs before a new worker is started. close() ends the worker. With `threads: false` every
 * batch is prepared in this thread.
 */
export class Preparer {
  readonly #threads: boolean;
  readonly #report: (error: unknown) => void;
  #worker: Worker | undefined;
  /** The current worker has loaded and answers. */
  #ready = false;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;
  /** After a worker failed, batches are prepared here until then (a worker that cannot start is not retried per batch). */
  #restartAt = 0;

  readonly #minWorkerBatch: number;

  /** `minWorkerBatch`: smaller batches are prepared in this thread (light traffic: the round trip would only add latency). */
  constructor({ threads, report, minWorkerBatch = 0 }: { threads: boolean; report: (error: unknown) => void; minWorkerBatch?: number }) {
    this.#threads = threads;
    this.#report = report;
    this.#minWorkerBatch = minWorkerBatch;
  }

  prepare(topic: string, items: readonly PrepareItem[]): Promise<Prepared> {
    const wanted = this.#threads && !this.#closed && items.length >= this.#minWorkerBatch && Date.now() >= this.#restartAt;
    const worker = wanted ? this.#start() : undefined;
    // Until the worker has loaded (it compiles the recorder's modules) batches are prepared here, not queued.
    if (!worker || !this.#ready) return Promise.resolve(prepareBatch(topic, items));
    const id = this.#nextId++;
    return new Promise<Prepared>((resolve) => {
      this.#pending.set(id, { resolve, topic, items });
      try {
        const packed = packItems(items);
        worker.postMessage({ id, topic, packed }, [packed.bytes.buffer as ArrayBuffer]);
      } catch (error) {
        this.#pending.delete(id);
        this.#report(error);
        resolve(prepareBatch(topic, items));
      }
    });
  }

  /** Starts the worker now (it takes a moment to load), so the first batches need not be prepared here. */
  warmUp(): void {
    if (this.#threads && !this.#closed && Date.now() >= this.#restartAt) this.#start();
  }

  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    this.#ready = false;
    this.#failPending();
    await worker?.terminate();
  }

  #start(): Worker | undefined {
    if (this.#worker) return this.#worker;
    let worker: Worker;
    try {
      const resourceLimits = { maxYoungGenerationSizeMb: historyDefaults.recorder.workerYoungGenerationMb };
      // In the app Next bundles the worker (`new Worker(new URL(…, import.meta.url))` is the form it recognises;
      // it sets NEXT_RUNTIME in the server it runs). Anywhere else (tests, benchmarks under tsx) this module runs
      // from its TypeScript source, and so does the worker, through tsx's require hook.
      worker =
        process.env.NEXT_RUNTIME === undefined
          ? new Worker(typescriptEntry(new URL("./prepare-worker.ts", import.meta.url)), { eval: true, resourceLimits })
          : new Worker(new URL("./prepare-worker.ts", import.meta.url), { resourceLimits });
    } catch (error) {
      this.#restartAt = Date.now() + historyDefaults.recorder.workerRestartDelayMs;
      this.#report(error);
      return undefined;
    }
    worker.unref();
    worker.on("message", (answer: { id: number; error?: string; ready?: true } & Prepared) => {
      if (answer.ready) {
        if (this.#worker === worker) this.#ready = true;
        return;
      }
      const pending = this.#pending.get(answer.id);
      if (!pending) return;
      this.#pending.delete(answer.id);
      if (answer.error === undefined) pending.resolve({ text: answer.text, summaries: answer.summaries, escaped: answer.escaped, inWorker: true });
      else {
        this.#report(new Error(`recorder worker: ${answer.error}`));
        pending.resolve(prepareBatch(pending.topic, pending.items));
      }
    });
    const failed = (error: unknown) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#ready = false;
      this.#restartAt = Date.now() + historyDefaults.recorder.workerRestartDelayMs;
      if (!this.#closed) this.#report(error);
      this.#failPending();
    };
    worker.on("error", failed);
    worker.on("exit", (code) => failed(new Error(`recorder worker exited (code ${code})`)));
    this.#worker = worker;
    return worker;
  }

  /** Prepares here what a worker that is gone still owed. */
  #failPending(): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.resolve(prepareBatch(p.topic, p.items));
  }
}

/**
 * Worker code that loads the TypeScript module `file` through tsx (a development dependency): its require hook,
 * since Node 20 applies no module-loader hooks in worker threads.
 */
function typescriptEntry(file: URL): string {
  const require = createRequire(file);
  return `require(${JSON.stringify(require.resolve("tsx/cjs"))}); require(${JSON.stringify(fileURLToPath(file))});`;
}
