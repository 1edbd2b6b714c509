import { createHash } from "node:crypto";
import { z } from "zod";
import type { ExtensionValue, Message } from "@whisper/core";

/**
 * What history can store verbatim: THE rule, used by the API (an event it cannot store is refused with a 400
 * naming the field) and by the recorder (traffic from other publishers that breaks it is recorded escaped,
 * with the extension `recorderror` saying what was changed, and counted).
 *
 * A message is storable when:
 * - no attribute value (id, source, type, time, subject, datacontenttype, dataschema, any string extension)
 *   contains NUL (U+0000): PostgreSQL text and jsonb cannot hold it;
 * - no attribute value, and no text data, contains an unpaired UTF-16 surrogate: it has no UTF-8 form, so
 *   the stored bytes could not be the ones sent;
 * - the attributes history indexes (id, type, orderingkey) are at most `maxKeyBytes` bytes of UTF-8. A btree
 *   index entry holds at most 2,704 bytes (PostgreSQL's limit for 8 KiB pages); the widest entry is
 *   (topic ≤ 200, type or ordering key, ingest sequence), so 1,024 leaves more than half the room as margin,
 *   whatever compression would or would not do.
 * Text data with NUL is storable: it goes to the bytea column (rows.ts splitBody), byte for byte.
 */
export const storableLimits = {
  /** Longest id, type and orderingkey in UTF-8 bytes (documented in docs/dashboard-contract.md). */
  maxKeyBytes: 1024,
} as const;

/**
 * A message id as history holds it, i.e. every id the events route accepts: 1 to maxKeyBytes bytes of UTF-8,
 * no NUL, no unpaired surrogate. GET /api/messages/{id} and the replay route take exactly these.
 */
export const storableIdSchema = z
  .string()
  .min(1, "is required")
  .max(storableLimits.maxKeyBytes, `has at most ${storableLimits.maxKeyBytes} bytes of UTF-8`)
  .refine((id) => valueProblems("id", id).length === 0, `has at most ${storableLimits.maxKeyBytes} bytes of UTF-8, no NUL and no unpaired surrogate`);

/** Why a value cannot be stored verbatim; each code has one sentence in PROBLEM_MESSAGES. */
export type StorableProblemCode = "nul" | "unpaired-surrogate" | "too-long";

export const PROBLEM_MESSAGES: Record<StorableProblemCode, string> = {
  nul: "must not contain NUL (U+0000): history cannot store it",
  "unpaired-surrogate": "must not contain an unpaired UTF-16 surrogate: it has no UTF-8 form",
  "too-long": `has at most ${storableLimits.maxKeyBytes} bytes of UTF-8 (history indexes it)`,
};

/** What the recorder did about each problem, for the `recorderror` extension. */
export const RECORDED_AS: Record<StorableProblemCode, string> = {
  nul: "NUL escaped as \\u0000",
  "unpaired-surrogate": "unpaired surrogates escaped as \\udXXX",
  "too-long": `shortened to ${storableLimits.maxKeyBytes} bytes ending in the SHA-256 of the whole value`,
};

export interface StorableProblem {
  /** The attribute name ("id", "type", an extension name …), or "data" for the body. */
  field: string;
  code: StorableProblemCode;
  message: string;
}

/** Attributes history indexes, hence limited to maxKeyBytes. */
const KEYED = new Set(["id", "type", "orderingkey"]);
/** Anything that needs a closer look: NUL or any surrogate code unit. Plain text fails this test fast. */
const SUSPECT = /[\u0000\ud800-\udfff]/;
const UNPAIRED = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The problem codes of one text value (in a stable order: nul, unpaired-surrogate, too-long). */
export function valueProblems(field: string, value: string): StorableProblemCode[] {
  const codes: StorableProblemCode[] = [];
  if (SUSPECT.test(value)) {
    if (value.includes("\u0000")) codes.push("nul");
    if (UNPAIRED.test(value)) codes.push("unpaired-surrogate");
  }
  // Byte length only matters past maxKeyBytes / 3 characters (a UTF-16 unit is at most 3 bytes of UTF-8).
  if (KEYED.has(field) && value.length * 3 > storableLimits.maxKeyBytes && Buffer.byteLength(value, "utf8") > storableLimits.maxKeyBytes) {
    codes.push("too-long");
  }
  return codes;
}

/**
 * True when history can store `message` verbatim (storableProblems would be empty): the recorder's fast path,
 * one regex test per value and no allocation.
 */
export function isStorable(message: Message): boolean {
  if (SUSPECT.test(message.id) || !keyed(message.id) || SUSPECT.test(message.type) || !keyed(message.type)) return false;
  if (SUSPECT.test(message.source) || SUSPECT.test(message.time)) return false;
  for (const value of [message.subject, message.datacontenttype, message.dataschema]) if (value !== undefined && SUSPECT.test(value)) return false;
  const extensions = message.extensions;
  for (const name in extensions) {
    const value = extensions[name];
    if (typeof value === "string" && (SUSPECT.test(value) || (name === "orderingkey" && !keyed(value)))) return false;
  }
  const body = message.body;
  return !(typeof body === "string" && SUSPECT.test(body) && UNPAIRED.test(body));
}

/** True when an indexed attribute's value fits maxKeyBytes of UTF-8 (counted only when it could exceed it). */
function keyed(value: string): boolean {
  return value.length * 3 <= storableLimits.maxKeyBytes || Buffer.byteLength(value, "utf8") <= storableLimits.maxKeyBytes;
}

/** Every reason `message` cannot be stored verbatim; empty when it can. */
export function storableProblems(message: Message): StorableProblem[] {
  const problems: StorableProblem[] = [];
  for (const [field, value] of Object.entries(message.attributes())) {
    if (typeof value !== "string") continue;
    for (const code of valueProblems(field, value)) problems.push({ field, code, message: PROBLEM_MESSAGES[code] });
  }
  const body = message.body;
  if (typeof body === "string" && SUSPECT.test(body) && UNPAIRED.test(body)) {
    problems.push({ field: "data", code: "unpaired-surrogate", message: PROBLEM_MESSAGES["unpaired-surrogate"] });
  }
  return problems;
}

/**
 * A storable form of a text value: backslash, NUL and unpaired surrogates escaped (`\\`, `\u0000`, `\udXXX`:
 * reversible) when it has either; then, for an indexed attribute still longer than maxKeyBytes, its first bytes,
 * "…sha256:" and the SHA-256 of the whole escaped value (deterministic: a redelivery maps to the same id, so rows
 * stay idempotent). `codes` says what was done (escaping can push a key past the limit, so "too-long" may be
 * added).
 */
export function storableValue(field: string, value: string): { value: string; codes: StorableProblemCode[] } {
  if (!SUSPECT.test(value) && (value.length * 3 <= storableLimits.maxKeyBytes || !KEYED.has(field))) return { value, codes: [] };
  const codes = valueProblems(field, value);
  let out = value;
  if (codes.includes("nul") || codes.includes("unpaired-surrogate")) {
    out = out.replace(/\\|\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (c) =>
      c === "\\" ? "\\\\" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  }
  if (KEYED.has(field) && Buffer.byteLength(out, "utf8") > storableLimits.maxKeyBytes) {
    if (!codes.includes("too-long")) codes.push("too-long");
    const hash = `…sha256:${createHash("sha256").update(out, "utf8").digest("hex")}`;
    const room = storableLimits.maxKeyBytes - Buffer.byteLength(hash, "utf8");
    // Cut at a code point boundary (the escaped text is well-formed UTF-16).
    let prefix = "";
    let bytes = 0;
    for (const ch of out) {
      const n = Buffer.byteLength(ch, "utf8");
      if (bytes + n > room) break;
      prefix += ch;
      bytes += n;
    }
    out = prefix + hash;
  }
  return { value: out, codes };
}

/** Attributes (and text data) as history stores them, with what was changed. */
export interface StorableForm
  extends Pick<Message, "id" | "source" | "type" | "time" | "subject" | "datacontenttype" | "dataschema" | "extensions"> {
  /** The text data, escaped if it had unpaired surrogates; undefined when the body is not text. */
  text: string | undefined;
  /** What was changed, one entry per field; empty when the message is stored verbatim. */
  changes: string[];
}

/** The extension that says what the recorder changed to store a message (see storableForm). */
export const RECORD_ERROR_EXTENSION = "recorderror";

/**
 * The message as history stores it. Verbatim when storableProblems() is empty (the common case costs one regex
 * test per value); otherwise each offending value is made storable (storableValue) and the extension
 * `recorderror` says what was changed ("stored with changes: id: NUL escaped as \\u0000; type: shortened …"),
 * so the row never passes for the original.
 */
export function storableForm(message: Message): StorableForm {
  const changes: string[] = [];
  const fix = (field: string, value: string) => {
    if (!SUSPECT.test(value) && (value.length * 3 <= storableLimits.maxKeyBytes || !KEYED.has(field))) return value;
    const { value: stored, codes } = storableValue(field, value);
    if (codes.length > 0) changes.push(`${field}: ${codes.map((c) => RECORDED_AS[c]).join(", ")}`);
    return stored;
  };
  const fixOptional = (field: string, value: string | undefined) => (value === undefined ? undefined : fix(field, value));
  const attributes = {
    id: fix("id", message.id),
    source: fix("source", message.source),
    type: fix("type", message.type),
    time: fix("time", message.time),
    subject: fixOptional("subject", message.subject),
    datacontenttype: fixOptional("datacontenttype", message.datacontenttype),
    dataschema: fixOptional("dataschema", message.dataschema),
  };
  let extensions: Record<string, ExtensionValue> | undefined;
  for (const [name, value] of Object.entries(message.extensions)) {
    if (typeof value !== "string") continue;
    const stored = fix(name, value);
    if (stored !== value) (extensions ??= { ...message.extensions })[name] = stored;
  }
  let text: string | undefined;
  const body = message.body;
  if (typeof body === "string") {
    const escaped = SUSPECT.test(body) && UNPAIRED.test(body);
    text = escaped ? storableValue("data", body).value : body;
    if (escaped) changes.push(`data: ${RECORDED_AS["unpaired-surrogate"]}`);
  }
  const recorderError = changes.length > 0 ? { [RECORD_ERROR_EXTENSION]: `stored with changes: ${changes.join("; ")}` } : undefined;
  return {
    ...attributes,
    extensions: recorderError ? Object.freeze({ ...(extensions ?? message.extensions), ...recorderError }) : message.extensions,
    text,
    changes,
  };
}
