/**
 * The history filter language (docs/history.md, "Searching history"): one line of terms, all of which must
 * match. Pure TypeScript with no imports, so the server (SQL, server/history/filter-sql.ts) and the browser
 * (the live tail, components/topic/live-filter.ts) share the parser and, with filter-match.ts, the meaning of every
 * term.
 *
 *   type = order.*  source = /shop  data.customer = "c-42"  data.total > 100  "out of stock"
 *
 * - `field op value` compares; several terms are joined by AND (the word `and` may be written; `or` is refused);
 * - attributes `type`, `source`, `subject`, `key` (ordering key), `topic`, `id`, `replayof` take `=` and `!=`;
 *   an unquoted value ending in `*` matches as a prefix (`type = order.*`), a quoted value is taken literally;
 * - `seq` (the broker's sequence) takes `=`, `!=`, `<`, `<=`, `>`, `>=` and a whole number;
 * - `data.a.b`, `data.items[0]`, `data["odd key"]` address JSON data: `=`/`!=` with a string, number, `true`,
 *   `false` or `null` (an unquoted word that is none of these is a string; `c-4*` is a prefix), and `<`, `<=`,
 *   `>`, `>=` with a number (fields that are not numbers never match);
 * - a value alone (`"out of stock"`, `timeout`) is text searched in the data, case-insensitively;
 * - `!=` also matches when the attribute or field is absent.
 */

export const ATTRIBUTE_FIELDS = ["type", "source", "subject", "key", "topic", "id", "replayof"] as const;
export type AttributeField = (typeof ATTRIBUTE_FIELDS)[number];
export type EqualityOp = "=" | "!=";
export type OrderOp = "<" | "<=" | ">" | ">=";
export type ComparisonOp = EqualityOp | OrderOp;
export type JsonScalar = string | number | boolean | null;
/** A step into JSON data: an object key, or an array index. */
export type PathSegment = string | number;

export type FilterTerm =
  /** An attribute equals `value` (or starts with it, when `prefix`); `!=` also matches an absent attribute. */
  | { kind: "attribute"; field: AttributeField; op: EqualityOp; value: string; prefix: boolean }
  /** The broker's sequence compared with a whole number (decimal digits, at most 2^63 − 1). */
  | { kind: "sequence"; op: ComparisonOp; value: string }
  /** A JSON scalar at `path` equals `value` (a string prefix when `prefix`); `!=` also matches an absent field. */
  | { kind: "data"; path: PathSegment[]; op: EqualityOp; value: JsonScalar; prefix: boolean }
  /** A JSON number at `path` compared with `value`. */
  | { kind: "dataNumber"; path: PathSegment[]; op: OrderOp; value: number }
  /** `value` occurs in the data (JSON or text), ignoring case. */
  | { kind: "text"; value: string };

export interface Filter {
  terms: FilterTerm[];
}

export const FILTER_LIMITS = {
  /** Characters of the whole filter text. */
  textLength: 1000,
  terms: 12,
  pathSegments: 10,
  /** Characters of one value. */
  valueLength: 500,
} as const;

const MAX_BIGINT = 9223372036854775807n;

export type FilterParse = { ok: true; filter: Filter } | { ok: false; error: string; offset: number };

/** Parses filter text; the empty text is the empty filter (everything matches). Never throws. */
export function parseFilter(text: string): FilterParse {
  try {
    return { ok: true, filter: new Parser(text).parse() };
  } catch (error) {
    if (error instanceof FilterSyntaxError) return { ok: false, error: error.message, offset: error.offset };
    throw error;
  }
}

class FilterSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

type Token =
  | { kind: "word"; text: string; at: number }
  | { kind: "string"; text: string; at: number }
  | { kind: "op"; text: ComparisonOp; at: number }
  | { kind: "path"; path: PathSegment[]; at: number };

const OPERATOR = /^(!=|<=|>=|==|=|<|>)/;
/** Characters that end a bare word: whitespace, quotes and the operator characters. */
const WORD = /^[^\s"=<>]+/;
const JSON_STRING = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/;
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const NAME = /^[^\s"=<>.[\]!]+/;

class Parser {
  #pos = 0;
  readonly #text: string;
  readonly #tokens: Token[] = [];

  constructor(text: string) {
    this.#text = text;
  }

  parse(): Filter {
    if (this.#text.length > FILTER_LIMITS.textLength) {
      throw new FilterSyntaxError(`the filter is longer than ${FILTER_LIMITS.textLength} characters`, FILTER_LIMITS.textLength);
    }
    this.#tokenize();
    const terms: FilterTerm[] = [];
    for (let i = 0; i < this.#tokens.length; ) {
      const token = this.#tokens[i]!;
      if (token.kind === "word" && /^and$/i.test(token.text) && i > 0) {
        i++;
        continue;
      }
      if (token.kind === "word" && /^(or|not)$/i.test(token.text)) {
        throw new FilterSyntaxError(`"${token.text}" is not supported: every term must match (quote it to search the text)`, token.at);
      }
      if (token.kind === "op") throw new FilterSyntaxError(`"${token.text}" needs a field before it, such as type or data.total`, token.at);
      const next = this.#tokens[i + 1];
      if (next?.kind === "op") {
        const value = this.#tokens[i + 2];
        if (!value || value.kind === "op" || value.kind === "path") {
          throw new FilterSyntaxError(`"${next.text}" needs a value after it`, value?.at ?? this.#text.length);
        }
        terms.push(this.#comparison(token, next, value));
        i += 3;
      } else if (token.kind === "path") {
        throw new FilterSyntaxError("a data field needs an operator and a value, such as data.total > 100", token.at);
      } else {
        terms.push({ kind: "text", value: this.#value(token.text, token.at) });
        i++;
      }
      if (terms.length > FILTER_LIMITS.terms) throw new FilterSyntaxError(`at most ${FILTER_LIMITS.terms} terms`, token.at);
    }
    return { terms };
  }

  #tokenize(): void {
    const text = this.#text;
    while (this.#pos < text.length) {
      const rest = text.slice(this.#pos);
      const space = /^\s+/.exec(rest);
      if (space) {
        this.#pos += space[0].length;
        continue;
      }
      const at = this.#pos;
      const op = OPERATOR.exec(rest);
      if (op) {
        this.#tokens.push({ kind: "op", text: (op[1] === "==" ? "=" : op[1]) as ComparisonOp, at });
        this.#pos += op[0].length;
      } else if (rest.startsWith('"')) {
        this.#tokens.push({ kind: "string", text: this.#string(rest, at), at });
      } else if (/^data(?=[.[]|\s|$|[=<>!])/.test(rest) && this.#tokens.at(-1)?.kind !== "op") {
        // A data path where a field may stand (not right after an operator, where `data.csv` is a value).
        this.#tokens.push({ kind: "path", path: this.#path(), at });
      } else {
        const word = WORD.exec(rest)!;
        // "!" starts "!=" only when "=" follows; otherwise it is part of the word.
        let end = word[0].length;
        const bang = word[0].indexOf("!");
        if (bang >= 0 && rest[bang + 1] === "=") end = bang;
        if (end === 0) throw new FilterSyntaxError(`unexpected "${rest[0]}"`, at);
        this.#tokens.push({ kind: "word", text: rest.slice(0, end), at });
        this.#pos += end;
      }
    }
  }

  #string(rest: string, at: number): string {
    const match = JSON_STRING.exec(rest);
    if (!match) throw new FilterSyntaxError("this quoted value does not end, or has an escape other than JSON's", at);
    this.#pos += match[0].length;
    return JSON.parse(match[0]) as string;
  }

  /** `data` followed by `.name`, `[n]` or `["key"]` steps. */
  #path(): PathSegment[] {
    const text = this.#text;
    const path: PathSegment[] = [];
    this.#pos += 4;
    for (;;) {
      const at = this.#pos;
      const rest = text.slice(at);
      if (rest.startsWith(".")) {
        const name = NAME.exec(rest.slice(1));
        if (!name) throw new FilterSyntaxError('a name must follow "." (quote odd keys: data["a b"])', at + 1);
        path.push(name[0]);
        this.#pos += 1 + name[0].length;
      } else if (rest.startsWith("[")) {
        const index = /^\[(\d{1,9})\]/.exec(rest);
        if (index) {
          path.push(Number(index[1]));
          this.#pos += index[0].length;
        } else if (rest.startsWith('["')) {
          this.#pos += 1;
          const key = this.#string(rest.slice(1), at + 1);
          if (text[this.#pos] !== "]") throw new FilterSyntaxError('"]" expected', this.#pos);
          this.#pos += 1;
          path.push(key);
        } else {
          throw new FilterSyntaxError('"[" takes an index such as [0] or a quoted key such as ["a b"]', at);
        }
      } else {
        break;
      }
      if (path.length > FILTER_LIMITS.pathSegments) throw new FilterSyntaxError(`a data path has at most ${FILTER_LIMITS.pathSegments} steps`, at);
    }
    return path;
  }

  #value(text: string, at: number): string {
    if (text.length > FILTER_LIMITS.valueLength) throw new FilterSyntaxError(`a value has at most ${FILTER_LIMITS.valueLength} characters`, at);
    if (text.includes("\u0000")) throw new FilterSyntaxError("a value must not contain NUL (U+0000)", at);
    return text;
  }

  /** A bare word's prefix rule: a trailing `*` means "starts with"; a `*` anywhere else is a mistake. */
  #pattern(token: Token & { kind: "word" | "string" }): { value: string; prefix: boolean } {
    const value = this.#value(token.text, token.at);
    if (token.kind === "string") return { value, prefix: false };
    const star = value.indexOf("*");
    if (star < 0) return { value, prefix: false };
    if (star !== value.length - 1) {
      throw new FilterSyntaxError('"*" matches a prefix only at the end of a value; quote the value to match a literal *', token.at + star);
    }
    if (value.length === 1) throw new FilterSyntaxError("a prefix needs at least one character before *", token.at);
    return { value: value.slice(0, -1), prefix: true };
  }

  #comparison(field: Token, op: Token & { kind: "op" }, value: Token & { kind: "word" | "string" }): FilterTerm {
    if (field.kind === "path") return this.#dataComparison(field.path, op, value);
    if (field.kind === "string") throw new FilterSyntaxError("a field name is not quoted: type, source, subject, key, topic, id, replayof, seq or data.<path>", field.at);
    const name = field.text.toLowerCase();
    if (name === "seq" || name === "sequence") {
      if (value.kind !== "word" || !/^\d{1,19}$/.test(value.text) || BigInt(value.text) > MAX_BIGINT) {
        throw new FilterSyntaxError("seq compares with a whole number such as 1234", value.at);
      }
      return { kind: "sequence", op: op.text, value: BigInt(value.text).toString() };
    }
    const attribute = name === "orderingkey" ? "key" : name;
    if (!(ATTRIBUTE_FIELDS as readonly string[]).includes(attribute)) {
      throw new FilterSyntaxError(`unknown field "${field.text}": use type, source, subject, key, topic, id, replayof, seq or data.<path>`, field.at);
    }
    if (op.text !== "=" && op.text !== "!=") {
      throw new FilterSyntaxError(`${attribute} takes = or != (with value* for a prefix), not ${op.text}`, op.at);
    }
    const { value: text, prefix } = this.#pattern(value);
    if (prefix && attribute === "id") throw new FilterSyntaxError("id matches exactly; quote the value to match a literal *", value.at);
    return { kind: "attribute", field: attribute as AttributeField, op: op.text, value: text, prefix };
  }

  #dataComparison(path: PathSegment[], op: Token & { kind: "op" }, value: Token & { kind: "word" | "string" }): FilterTerm {
    const scalar = this.#scalar(value);
    if (op.text === "=" || op.text === "!=") {
      if (value.kind === "word" && typeof scalar === "string") {
        const pattern = this.#pattern(value);
        return { kind: "data", path, op: op.text, value: pattern.value, prefix: pattern.prefix };
      }
      return { kind: "data", path, op: op.text, value: scalar, prefix: false };
    }
    if (typeof scalar !== "number") throw new FilterSyntaxError(`${op.text} compares numbers: write a number such as 100`, value.at);
    return { kind: "dataNumber", path, op: op.text, value: scalar };
  }

  #scalar(token: Token & { kind: "word" | "string" }): JsonScalar {
    const text = this.#value(token.text, token.at);
    if (token.kind === "string") return text;
    if (text === "true") return true;
    if (text === "false") return false;
    if (text === "null") return null;
    if (JSON_NUMBER.test(text)) {
      const n = Number(text);
      if (!Number.isFinite(n)) throw new FilterSyntaxError("this number is too large", token.at);
      return n;
    }
    return text;
  }
}
