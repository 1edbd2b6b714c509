import { decodeEncoded, type EncodedMessage } from "@whisper/core";
import { copyText, messageRow, summaryOf, type MessageRow } from "./rows";

/**
 * Turning a topic's deliveries, still encoded (Subscription.encodedBatches()), into what the writer needs:
 * the COPY text of their rows, the summaries reported after the commit, and what was escaped. Pure and
 * synchronous, so the recorder runs it in a worker thread (prepare-worker.ts, preparer.ts) while the
 * connection's thread only receives, writes and acks; or in its own thread when there is no worker.
 */

/** One delivery to prepare: the message as received, when it arrived (ms) and its broker sequence. */
export interface PrepareItem {
  encoded: EncodedMessage;
  receivedAt: number;
  sequence: bigint | number | null;
}

/** A batch ready to write. */
export interface Prepared {
  /** The rows in Postgres COPY text format (rows.ts copyText), as text or as its UTF-8 bytes. */
  text: string | Uint8Array;
  /** JSON of the rows' MessageSummary array, in row order (parsed only once the rows committed). */
  summaries: string;
  /** Rows stored with changes (storable.ts): their id and what was changed. */
  escaped: Array<{ id: string; changes: readonly string[] }>;
  /** Prepared by the worker thread (preparer.ts), not the recorder's own. */
  inWorker?: boolean;
}

/** The rows of `items` (also the slow paths' way back to full rows: the unnest method, row-by-row retries). */
export function rowsOf(topic: string, items: readonly PrepareItem[]): MessageRow[] {
  const rows: MessageRow[] = new Array(items.length);
  let date = new Date(0);
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    // Rows of one millisecond share their (never mutated) receivedAt Date.
    if (date.getTime() !== item.receivedAt) date = new Date(item.receivedAt);
    rows[i] = messageRow(decodeEncoded(item.encoded), topic, date, item.sequence);
  }
  return rows;
}

export function prepareBatch(topic: string, items: readonly PrepareItem[]): Prepared {
  const rows = rowsOf(topic, items);
  const escaped: Prepared["escaped"] = [];
  for (const row of rows) if (row.changes.length > 0) escaped.push({ id: row.id, changes: row.changes });
  return { text: copyText(rows), summaries: JSON.stringify(rows.map(summaryOf)), escaped };
}

/**
 * `items` packed for postMessage: the bytes of every NATS message copied into one buffer (transferred, not
 * cloned: a view of the client's read buffer would clone that whole buffer), the rest as plain values.
 */
export interface PackedItems {
  bytes: Uint8Array;
  /** Per item: header length (-1: none) and data length, in `bytes` one after the other; -2: not a NATS item. */
  lengths: Int32Array;
  receivedAt: Float64Array;
  sequences: Array<bigint | number | null>;
  /** Per item: its subject / server / stream as an index into `strings` (NATS items). */
  refs: Int32Array;
  strings: string[];
  natsSequences: Array<number | undefined>;
  /** Items that are not NATS messages, by index. */
  others: Array<[number, EncodedMessage]>;
}

export function packItems(items: readonly PrepareItem[]): PackedItems {
  let total = 0;
  for (const { encoded: e } of items) if (e.format === "nats") total += (e.headers?.byteLength ?? 0) + e.data.byteLength;
  const bytes = new Uint8Array(total);
  const n = items.length;
  const packed: PackedItems = {
    bytes,
    lengths: new Int32Array(2 * n),
    receivedAt: new Float64Array(n),
    sequences: new Array(n),
    refs: new Int32Array(3 * n),
    strings: [],
    natsSequences: new Array(n),
    others: [],
  };
  const index = new Map<string, number>();
  const ref = (s: string | undefined) => {
    if (s === undefined) return -1;
    let i = index.get(s);
    if (i === undefined) index.set(s, (i = packed.strings.push(s) - 1));
    return i;
  };
  let at = 0;
  for (let i = 0; i < n; i++) {
    const { encoded: e, receivedAt, sequence } = items[i]!;
    packed.receivedAt[i] = receivedAt;
    packed.sequences[i] = sequence;
    if (e.format !== "nats") {
      packed.lengths[2 * i] = -2;
      packed.others.push([i, e]);
      continue;
    }
    const headers = e.headers;
    if (headers === null) packed.lengths[2 * i] = -1;
    else {
      bytes.set(headers, at);
      at += headers.byteLength;
      packed.lengths[2 * i] = headers.byteLength;
    }
    bytes.set(e.data, at);
    at += e.data.byteLength;
    packed.lengths[2 * i + 1] = e.data.byteLength;
    packed.refs[3 * i] = ref(e.subject);
    packed.refs[3 * i + 1] = ref(e.server);
    packed.refs[3 * i + 2] = ref(e.stream);
    packed.natsSequences[i] = e.sequence;
  }
  return packed;
}

export function unpackItems(packed: PackedItems): PrepareItem[] {
  const n = packed.receivedAt.length;
  const items: PrepareItem[] = new Array(n);
  const others = new Map(packed.others);
  const { bytes, lengths, refs, strings } = packed;
  let at = 0;
  for (let i = 0; i < n; i++) {
    const headerLength = lengths[2 * i]!;
    let encoded: EncodedMessage;
    if (headerLength === -2) encoded = others.get(i)!;
    else {
      const headers = headerLength >= 0 ? bytes.subarray(at, (at += headerLength)) : null;
      const data = bytes.subarray(at, (at += lengths[2 * i + 1]!));
      const stream = refs[3 * i + 2]!;
      const sequence = packed.natsSequences[i];
      encoded = {
        format: "nats",
        subject: strings[refs[3 * i]!]!,
        headers,
        data,
        server: strings[refs[3 * i + 1]!]!,
        ...(stream >= 0 ? { stream: strings[stream]! } : {}),
        ...(sequence !== undefined ? { sequence } : {}),
      };
    }
    items[i] = { encoded, receivedAt: packed.receivedAt[i]!, sequence: packed.sequences[i]! };
  }
  return items;
}
