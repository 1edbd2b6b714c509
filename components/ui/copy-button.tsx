"use client";

import { useState } from "react";
import { Button } from "./button";

// Copies `text()` to the clipboard. Where the Clipboard API is unavailable (plain-http origins), it says so
// and shows the text in a read-only box, selected, so the user can copy it by hand.

export function CopyButton({ label, text }: { label: string; text: () => string }) {
  const [state, setState] = useState<"idle" | "copied" | "manual">("idle");
  const [manualText, setManualText] = useState("");

  async function copy() {
    const value = text();
    try {
      if (!navigator.clipboard) throw new Error("no clipboard");
      await navigator.clipboard.writeText(value);
      setState("copied");
      window.setTimeout(() => setState("idle"), 1500);
    } catch {
      setManualText(value);
      setState("manual");
    }
  }

  return (
    <div className="flex flex-col gap-1">
      <Button size="sm" onClick={copy} aria-live="polite">
        {state === "copied" ? "Copied" : label}
      </Button>
      {state === "manual" && (
        <textarea
          readOnly
          aria-label={`${label} (select and copy)`}
          value={manualText}
          rows={4}
          autoFocus
          onFocus={(e) => e.currentTarget.select()}
          className="w-80 rounded-md border border-line bg-subtle p-2 font-mono text-xs"
        />
      )}
    </div>
  );
}
