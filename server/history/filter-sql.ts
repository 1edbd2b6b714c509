import type { AttributeField, Filter, FilterTerm, JsonScalar, PathSegment } from "@/server/contract/filter";

/**
 * The filter language (server/contract/filter.ts) as SQL over `messages`. Every value becomes a bind parameter
 * through `param` (which returns its placeholder, `$n`); no text of the filter is ever written into the SQL.
 * The SQL means exactly what filterPredicate() means in the browser (tests/integration/history-search.test.ts
 * compares the two on the same rows).
 *
 * The conditions come in three groups, by the index that can serve them:
 * - seek: btree-served: topic, type / source / subject / ordering key (= and prefix, text_pattern_ops
 *   indexes), id, the broker sequence;
 * - containment: `data_json @> {…}` for each `data.path = value` with a path of object keys, served by the GIN
 *   index (jsonb_path_ops); it is implied by the exact check in residual, so it only narrows;
 * - residual: checked row by row: exact data comparisons, prefixes inside data, numbers, `!=`, text, replayof.
 */
export interface FilterSql {
  seek: string[];
  containment: string[];
  residual: string[];
}

type Param = (value: unknown) => string;

/**
 * Columns of the indexed attributes. source and subject are indexed by their first INDEXED_PREFIX characters
 * (a btree entry holds at most 2,704 bytes; these attributes have no length limit).
 */
const COLUMN: Record<AttributeField, string> = {
  type: "type",
  source: "source",
  subject: "subject",
  key: "ordering_key",
  topic: "topic",
  id: "id",
  replayof: "replay_of",
};
export const INDEXED_PREFIX = 200;
const LEFT_INDEXED = new Set<AttributeField>(["source", "subject"]);

export function filterSql(filter: Filter, param: Param): FilterSql {
  const out: FilterSql = { seek: [], containment: [], residual: [] };
  for (const term of filter.terms) addTerm(out, term, param);
  return out;
}

/** A LIKE pattern matching values that start with `prefix` (\, % and _ escaped). */
export function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, "\\$&")}%`;
}

function addTerm(out: FilterSql, term: FilterTerm, param: Param): void {
  switch (term.kind) {
    case "attribute": {
      const match = attributeMatch(term.field, term.value, term.prefix, param);
      if (term.op === "=") (term.field === "replayof" ? out.residual : out.seek).push(match);
      else out.residual.push(`(${COLUMN[term.field]} IS NULL OR NOT (${match}))`);
      return;
    }
    case "sequence":
      if (term.op === "!=") out.residual.push(`sequence IS DISTINCT FROM ${param(term.value)}::bigint`);
      else out.seek.push(`sequence ${term.op} ${param(term.value)}::bigint`);
      return;
    case "data": {
      const path = param(term.path.map(String));
      const at = `data_json #> ${path}::text[]`;
      let match: string;
      if (term.prefix) {
        match = `(CASE WHEN jsonb_typeof(${at}) = 'string' THEN (data_json #>> ${path}::text[]) LIKE ${param(prefixPattern(String(term.value)))} ELSE false END)`;
      } else {
        match = `coalesce(${at} = ${param(JSON.stringify(term.value))}::jsonb, false)`;
        if (term.op === "=" && term.path.every((step) => typeof step === "string")) {
          out.containment.push(`data_json @> ${param(JSON.stringify(containing(term.path, term.value)))}::jsonb`);
        }
      }
      out.residual.push(term.op === "=" ? match : `NOT ${match}`);
      return;
    }
    case "dataNumber": {
      const at = `data_json #> ${param(term.path.map(String))}::text[]`;
      out.residual.push(`(CASE WHEN jsonb_typeof(${at}) = 'number' THEN (${at})::numeric ${term.op} ${param(String(term.value))}::numeric ELSE false END)`);
      return;
    }
    case "text":
      out.residual.push(`data_text ILIKE ${param(`%${term.value.replace(/[\\%_]/g, "\\$&")}%`)}`);
      return;
  }
}

/** `column = value` or `column LIKE 'prefix%'`, written so that the attribute's index can serve it. */
function attributeMatch(field: AttributeField, value: string, prefix: boolean, param: Param): string {
  const column = COLUMN[field];
  if (!LEFT_INDEXED.has(field)) return prefix ? `${column} LIKE ${param(prefixPattern(value))}` : `${column} = ${param(value)}`;
  // The index holds left(column, INDEXED_PREFIX): compare that first, then the whole value when it is longer.
  const head = `left(${column}, ${INDEXED_PREFIX})`;
  if (prefix && [...value].length <= INDEXED_PREFIX) return `${head} LIKE ${param(prefixPattern(value))}`;
  const exactHead = `${head} = left(${param(value)}, ${INDEXED_PREFIX})`;
  return prefix ? `(${exactHead} AND ${column} LIKE ${param(prefixPattern(value))})` : `(${exactHead} AND ${column} = ${param(value)})`;
}

/** The JSON object that contains `value` at `path`: {"a":{"b":value}} for a.b. */
function containing(path: readonly PathSegment[], value: JsonScalar): unknown {
  let out: unknown = value;
  for (let i = path.length - 1; i >= 0; i--) out = { [String(path[i])]: out };
  return out;
}
