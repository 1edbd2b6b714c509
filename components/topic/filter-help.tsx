"use client";

import { useEffect, useId, useRef, useState } from "react";
import { Button } from "../ui/button";

/** Examples of the filter language (server/contract/filter.ts); choosing one puts it in the filter. */
const EXAMPLES: readonly [string, string][] = [
  ["type = order.*", "type starts with order."],
  ['data.customer = "c-42"', "a field of the JSON data equals a value"],
  ["data.total > 100", "a number in the data (>, >=, <, <=)"],
  ["data.items[0].sku = A-1", "array items and nested fields"],
  ["key = c-42 subject != test*", "ordering key; != also matches when absent"],
  ["seq >= 1200", "the broker's sequence"],
  ['"out of stock"', "text anywhere in the data, ignoring case"],
];

/**
 * A short help for the filter language: a disclosure button and a panel (not modal) that Escape or a click
 * outside closes. The full reference is docs/history.md, "Searching history".
 */
export function FilterHelp({ onExample }: { onExample: (text: string) => void }) {
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const root = useRef<HTMLDivElement>(null);
  const toggle = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") {
        setOpen(false);
        toggle.current?.focus();
      }
    };
    const onPointer = (event: PointerEvent) => {
      if (root.current && !root.current.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("pointerdown", onPointer);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("pointerdown", onPointer);
    };
  }, [open]);

  return (
    <div ref={root} className="relative">
      <Button ref={toggle} size="sm" variant="ghost" aria-expanded={open} aria-controls={panelId} onClick={() => setOpen((o) => !o)}>
        Filter help
      </Button>
      {open && (
        <div
          id={panelId}
          role="region"
          aria-label="Filter language"
          className="absolute right-0 z-30 mt-1 w-[min(30rem,calc(100vw-2rem))] rounded-lg border border-line bg-surface p-3 text-sm shadow-lg"
        >
          <p className="mb-2 text-xs text-muted">
            Terms separated by spaces must all match. Fields: <code>type</code> <code>source</code> <code>subject</code> <code>key</code>{" "}
            <code>topic</code> <code>id</code> <code>replayof</code> <code>seq</code> <code>data.…</code>. A value ending in <code>*</code> is a
            prefix; quote values with spaces or a literal <code>*</code>.
          </p>
          <ul className="flex flex-col gap-1">
            {EXAMPLES.map(([example, meaning]) => (
              <li key={example} className="flex flex-wrap items-baseline gap-2">
                <button
                  type="button"
                  className="rounded bg-subtle px-1.5 py-0.5 font-mono text-xs text-accent hover:underline"
                  onClick={() => {
                    onExample(example);
                    setOpen(false);
                  }}
                >
                  {example}
                </button>
                <span className="text-xs text-muted">{meaning}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
