"use client";

import { useState } from "react";

// A JSON value as a tree of text nodes. Objects and arrays are collapsible with a button
// (aria-expanded); nodes deeper than `openDepth` start collapsed. Every value is rendered by React
// as text, so markup inside strings (for example "<script>") is shown, never parsed or run.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function Scalar({ value }: { value: Exclude<Json, Json[] | { [key: string]: Json }> }) {
  if (value === null) return <span className="text-muted">null</span>;
  if (typeof value === "string") return <span className="break-all text-ok">{JSON.stringify(value)}</span>;
  if (typeof value === "number") return <span className="text-accent">{String(value)}</span>;
  return <span className="text-warn">{String(value)}</span>;
}

function Key({ name }: { name: string | number }) {
  return typeof name === "number" ? (
    <span className="text-muted">{name}: </span>
  ) : (
    <span className="text-ink">{JSON.stringify(name)}: </span>
  );
}

function Branch({ name, value, depth, openDepth }: { name?: string | number; value: Json[] | { [key: string]: Json }; depth: number; openDepth: number }) {
  const [open, setOpen] = useState(depth < openDepth);
  const isArray = Array.isArray(value);
  const entries: [string | number, Json][] = isArray ? value.map((v, i) => [i, v]) : Object.entries(value);
  const [openMark, closeMark] = isArray ? ["[", "]"] : ["{", "}"];
  const summary = `${entries.length} ${isArray ? (entries.length === 1 ? "item" : "items") : entries.length === 1 ? "key" : "keys"}`;

  if (entries.length === 0) {
    return (
      <div>
        {name !== undefined && <Key name={name} />}
        <span className="text-muted">{openMark + closeMark}</span>
      </div>
    );
  }

  return (
    <div>
      <button
        type="button"
        aria-expanded={open}
        aria-label={`${open ? "Collapse" : "Expand"} ${name === undefined ? "root" : String(name)} (${summary})`}
        onClick={() => setOpen((o) => !o)}
        className="-ml-4 inline-flex w-4 justify-center text-muted hover:text-ink"
      >
        {open ? "▾" : "▸"}
      </button>
      {name !== undefined && <Key name={name} />}
      <span className="text-muted">{openMark}</span>
      {open ? (
        <>
          <ul className="ml-4 border-l border-line pl-4">
            {entries.map(([k, v]) => (
              <li key={k}>
                <JsonNode name={k} value={v} depth={depth + 1} openDepth={openDepth} />
              </li>
            ))}
          </ul>
          <span className="text-muted">{closeMark}</span>
        </>
      ) : (
        <span className="text-muted">
          {" "}
          … {summary} {closeMark}
        </span>
      )}
    </div>
  );
}

function JsonNode({ name, value, depth, openDepth }: { name?: string | number; value: Json; depth: number; openDepth: number }) {
  if (value !== null && typeof value === "object") {
    return <Branch name={name} value={value} depth={depth} openDepth={openDepth} />;
  }
  return (
    <div>
      {name !== undefined && <Key name={name} />}
      <Scalar value={value} />
    </div>
  );
}

export function JsonTree({ value, openDepth = 3 }: { value: unknown; openDepth?: number }) {
  return (
    <div data-testid="json-tree" className="pl-4 font-mono text-xs leading-5">
      <JsonNode value={value as Json} depth={0} openDepth={openDepth} />
    </div>
  );
}
