"use client";

import { useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { parseFilter } from "@/server/contract/filter";
import { Button } from "../ui/button";
import { controlBaseClass } from "../ui/field";
import { FilterHelp } from "./filter-help";

const PLACEHOLDER = 'type = order.*  data.customer = "c-42"  data.total > 100  or text';

/**
 * The filter of a history view, in the filter language (server/contract/filter.ts). It applies on Enter (each
 * query is one the reader asked for), after the same parser the server uses has accepted it: a mistake is shown
 * at once with the character where it is. It is the page's filter for `/` (components/layout/keyboard-shortcuts.tsx:
 * the first on the page, before the live tail's); ArrowDown moves to the first row of the list (`onLeave`).
 */
export function HistoryFilters({
  value,
  onApply,
  onLeave,
  label = "Filter history",
}: {
  value: string;
  onApply: (filter: string) => void;
  onLeave?: () => void;
  label?: string;
}) {
  const [draft, setDraft] = useState(value);
  const [applied, setApplied] = useState(value);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const errorId = useId();
  // The URL is the truth: Back or a shared link changes `value`, and the field follows it.
  if (applied !== value) {
    setApplied(value);
    setDraft(value);
    setError(null);
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const text = draft.trim();
    const parsed = parseFilter(text);
    if (!parsed.ok) {
      setError(`${parsed.error} (at character ${parsed.offset + 1})`);
      return;
    }
    setError(null);
    onApply(text);
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === "ArrowDown" && onLeave) {
      event.preventDefault();
      onLeave();
    }
  }

  return (
    <form role="search" aria-label={label} onSubmit={submit} className="flex flex-col gap-1">
      <div className="flex flex-wrap items-center gap-2">
        <input
          ref={input}
          type="search"
          aria-label="Filter"
          aria-invalid={error !== null}
          aria-describedby={error ? errorId : undefined}
          aria-keyshortcuts="/"
          data-shortcut="filter"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={onKeyDown}
          placeholder={PLACEHOLDER}
          spellCheck={false}
          autoComplete="off"
          className={`${controlBaseClass} min-w-0 flex-1 basis-72 font-mono`}
        />
        <Button type="submit" variant="primary">
          Search
        </Button>
        {value !== "" && (
          <Button
            onClick={() => {
              setDraft("");
              onApply("");
            }}
          >
            Clear filter
          </Button>
        )}
        <FilterHelp
          onExample={(example) => {
            setDraft(example);
            setError(null);
            input.current?.focus();
          }}
        />
      </div>
      {error && (
        <p id={errorId} role="alert" className="text-xs text-danger">
          {error}
        </p>
      )}
    </form>
  );
}
