"use client";

import { useMemo, useState } from "react";
import type { MessageData } from "../api/types";
import { Segmented } from "../ui/segmented";
import { EmptyState } from "../ui/states";
import { HexDump, decodeBase64 } from "./hex-dump";
import { JsonTree } from "./json-tree";

// The data of a message, by its stored encoding: JSON as a collapsible tree (or raw, pretty-printed),
// text as preformatted text, bytes (base64) as a hex dump (or UTF-8 text). Everything is a React text
// node; nothing here sets HTML, so markup in the data is displayed, never interpreted.

type View = "tree" | "raw" | "text" | "hex";


function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

const preClass = "max-h-[32rem] overflow-auto rounded-md bg-subtle p-3 font-mono text-xs leading-5 whitespace-pre-wrap break-all";

function JsonData({ text }: { text: string }) {
  const [view, setView] = useState<View>("tree");
  const parsed = useMemo(() => parseJson(text), [text]);
  if (!parsed.ok) {
    return (
      <>
        <p className="mb-2 text-xs text-warn">Stored as JSON but does not parse; shown as text.</p>
        <pre data-testid="data-text" className={preClass}>{text}</pre>
      </>
    );
  }
  return (
    <>
      <Segmented label="Data view" className="mb-3 w-fit" options={[{ value: "tree", label: "Tree" }, { value: "raw", label: "Raw" }]} value={view} onChange={setView} />
      {view === "tree" ? (
        <div className="max-h-[32rem] overflow-auto rounded-md bg-subtle p-3">
          <JsonTree value={parsed.value} />
        </div>
      ) : (
        <pre data-testid="data-text" className={preClass}>{JSON.stringify(parsed.value, null, 2)}</pre>
      )}
    </>
  );
}

function BytesData({ base64 }: { base64: string }) {
  const [view, setView] = useState<View>("hex");
  const bytes = useMemo(() => decodeBase64(base64), [base64]);
  if (!bytes) return <p className="text-sm text-danger">The stored bytes are not valid base64.</p>;
  return (
    <>
      <Segmented label="Data view" className="mb-3 w-fit" options={[{ value: "hex", label: "Hex" }, { value: "text", label: "UTF-8" }]} value={view} onChange={setView} />
      <p className="mb-2 text-xs text-muted">{bytes.length} bytes</p>
      {view === "hex" ? (
        <div className="rounded-md bg-subtle p-3">
          <HexDump bytes={bytes} />
        </div>
      ) : (
        <pre data-testid="data-text" className={preClass}>{new TextDecoder("utf-8", { fatal: false }).decode(bytes)}</pre>
      )}
    </>
  );
}

export function DataView({ data }: { data: MessageData }) {
  switch (data.encoding) {
    case "none":
      return <EmptyState title="No data" />;
    case "json":
      return <JsonData text={data.value} />;
    case "text":
      return <pre data-testid="data-text" className={preClass}>{data.value}</pre>;
    case "base64":
      return <BytesData base64={data.value} />;
  }
}
