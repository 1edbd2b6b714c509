import { InvalidMessageError } from "../../errors.js";

const utf8 = new TextDecoder();

/**
 * A NATS header block (`NATS/1.0\r\nKey: value\r\n…\r\n\r\n`) read the way the client library's
 * MsgHdrsImpl.decode reads it, without the client: lines split on CRLF, the key is what precedes the first
 * colon (kept as written, matched exactly), the value is trimmed, and a key's values are kept in order. Pure,
 * so a worker thread can decode deliveries (encoded.ts). Throws InvalidMessageError for a key the client
 * refuses (characters outside printable ASCII) or a value holding a lone CR or LF.
 */
export class HeaderBlock {
  readonly #values = new Map<string, string[]>();

  constructor(bytes: Uint8Array) {
    const lines = utf8.decode(bytes).split("\r\n");
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      if (line === "") continue;
      const colon = line.indexOf(":");
      if (colon < 0) continue;
      const key = line.slice(0, colon);
      for (let c = 0; c < key.length; c++) {
        const code = key.charCodeAt(c);
        if (code < 33 || code > 126) throw new InvalidMessageError(`header name ${JSON.stringify(key)} has a character NATS refuses`);
      }
      const value = line.slice(colon + 1).trim();
      if (/[\r\n]/.test(value)) throw new InvalidMessageError(`header ${key} has a value with a line break`);
      const values = this.#values.get(key);
      if (values) values.push(value);
      else this.#values.set(key, [value]);
    }
  }

  has(key: string): boolean {
    return this.#values.has(key);
  }

  /** The first value of `key` (exact match), "" when absent: MsgHdrs.get's contract. */
  get(key: string): string {
    return this.#values.get(key)?.[0] ?? "";
  }

  [Symbol.iterator](): IterableIterator<[string, string[]]> {
    return this.#values[Symbol.iterator]();
  }
}
