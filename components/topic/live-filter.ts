import { parseFilter } from "@/server/contract/filter";
import { filterPredicate, type FilterCandidate } from "@/server/contract/filter-match";
import type { LiveMessage } from "../api/types";

/**
 * The live tail's filter: the history's filter language (server/contract/filter.ts), evaluated in the browser on
 * each live message. Live messages carry their data only up to 2 KiB (LiveMessage.dataText): a data or text term
 * does not match a larger one (its preview shows it has data the browser does not hold), while `!=` on data
 * matches messages without JSON or text data, as in history.
 */
export function liveMatcher(text: string): { test: (message: LiveMessage) => boolean; error: string | null } {
  const parsed = parseFilter(text.trim());
  if (!parsed.ok) return { test: () => true, error: `${parsed.error} (at character ${parsed.offset + 1})` };
  const predicate = filterPredicate(parsed.filter);
  return { test: (message) => predicate(candidateOf(message)), error: null };
}

function candidateOf(m: LiveMessage): FilterCandidate {
  // No preview: bytes or no data (nothing to search); a preview without dataText: too large to be carried live.
  const dataText = m.dataText !== undefined ? m.dataText : m.preview === null ? null : undefined;
  return { ...m, dataText };
}
