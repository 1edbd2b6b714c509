import type { AttributeField, ComparisonOp, Filter, FilterTerm, JsonScalar, PathSegment } from "./filter";

/**
 * What a filter (filter.ts) means for a message held in memory: the live tail evaluates it in the browser, and the
 * history search test compares it with what the SQL (server/history/filter-sql.ts) selects. No imports but types.
 */

/** What the evaluator reads of a message. `dataText` undefined = the data is not at hand (too large for a live frame). */
export interface FilterCandidate {
  topic: string;
  id: string;
  type: string;
  source: string;
  subject: string | null;
  orderingKey: string | null;
  replayOf: string | null;
  /** The broker's sequence (decimal), null when there is none. */
  sequence: string | null;
  /** JSON or text data; null for bytes or no data; undefined when unknown. */
  dataText: string | null | undefined;
}

const NOT_JSON = Symbol("not JSON");

/** A predicate for `filter` over candidates; parses each candidate's data at most once. */
export function filterPredicate(filter: Filter): (candidate: FilterCandidate) => boolean {
  if (filter.terms.length === 0) return () => true;
  return (candidate) => {
    let parsed: unknown = undefined;
    let parsedOnce = false;
    const json = (): unknown => {
      if (!parsedOnce) {
        parsedOnce = true;
        parsed = NOT_JSON;
        if (typeof candidate.dataText === "string") {
          try {
            parsed = JSON.parse(candidate.dataText);
          } catch {
            parsed = NOT_JSON;
          }
        }
      }
      return parsed;
    };
    return filter.terms.every((term) => termMatches(term, candidate, json));
  };
}

function termMatches(term: FilterTerm, c: FilterCandidate, json: () => unknown): boolean {
  switch (term.kind) {
    case "attribute": {
      const actual = attributeOf(c, term.field);
      const equal = actual !== null && (term.prefix ? actual.startsWith(term.value) : actual === term.value);
      return term.op === "=" ? equal : !equal;
    }
    case "sequence": {
      if (c.sequence === null) return term.op === "!=";
      const a = BigInt(c.sequence);
      const b = BigInt(term.value);
      return compare(a < b ? -1 : a > b ? 1 : 0, term.op);
    }
    case "data": {
      if (c.dataText === undefined) return false;
      const data = json();
      const actual = data === NOT_JSON ? undefined : resolvePath(data, term.path);
      const equal = actual !== undefined && scalarEquals(actual, term.value, term.prefix);
      return term.op === "=" ? equal : !equal;
    }
    case "dataNumber": {
      if (c.dataText === undefined) return false;
      const data = json();
      const actual = data === NOT_JSON ? undefined : resolvePath(data, term.path);
      return typeof actual === "number" && compare(actual < term.value ? -1 : actual > term.value ? 1 : 0, term.op);
    }
    case "text":
      return typeof c.dataText === "string" && c.dataText.toLowerCase().includes(term.value.toLowerCase());
  }
}

function attributeOf(c: FilterCandidate, field: AttributeField): string | null {
  switch (field) {
    case "type":
      return c.type;
    case "source":
      return c.source;
    case "subject":
      return c.subject;
    case "key":
      return c.orderingKey;
    case "topic":
      return c.topic;
    case "id":
      return c.id;
    case "replayof":
      return c.replayOf;
  }
}

function compare(sign: number, op: ComparisonOp): boolean {
  switch (op) {
    case "=":
      return sign === 0;
    case "!=":
      return sign !== 0;
    case "<":
      return sign < 0;
    case "<=":
      return sign <= 0;
    case ">":
      return sign > 0;
    case ">=":
      return sign >= 0;
  }
}

/**
 * The value at `path`, as PostgreSQL's `#>` finds it: an object step looks a key up (a number as its decimal
 * text), an array step needs an integer (negative counts from the end); undefined when there is none.
 */
export function resolvePath(value: unknown, path: readonly PathSegment[]): unknown {
  let current = value;
  for (const step of path) {
    if (Array.isArray(current)) {
      const text = String(step);
      if (!/^-?\d+$/.test(text)) return undefined;
      const index = Number(text) < 0 ? current.length + Number(text) : Number(text);
      if (index < 0 || index >= current.length) return undefined;
      current = current[index];
    } else if (current !== null && typeof current === "object") {
      const key = String(step);
      if (!Object.prototype.hasOwnProperty.call(current, key)) return undefined;
      current = (current as Record<string, unknown>)[key];
    } else {
      return undefined;
    }
  }
  return current;
}

function scalarEquals(actual: unknown, expected: JsonScalar, prefix: boolean): boolean {
  if (prefix) return typeof actual === "string" && typeof expected === "string" && actual.startsWith(expected);
  return actual === expected;
}
