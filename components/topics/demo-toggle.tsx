"use client";

import { useDemo, useSetDemo } from "../api/hooks";
import { Button } from "../ui/button";
import { formatCount } from "../ui/format";

/**
 * Starts or stops the demo traffic source (POST /api/demo): realistic events on a few demo topics, one of
 * which stalls now and then so the ordering board has something to resume.
 */
export function DemoToggle() {
  const demo = useDemo();
  const setDemo = useSetDemo();
  const running = demo.data?.running ?? false;
  return (
    <div className="flex items-center gap-3">
      {demo.data?.running ? (
        <span className="text-sm text-muted" role="status">
          Demo traffic: {formatCount(demo.data.published)} published
          {demo.data.failedOnPurpose ? " · demo.inventory failing on purpose" : ""}
        </span>
      ) : null}
      <Button
        variant={running ? "secondary" : "primary"}
        size="sm"
        disabled={demo.isPending || setDemo.isPending}
        onClick={() => setDemo.mutate(!running)}
        aria-pressed={running}
      >
        {running ? "Stop demo traffic" : "Start demo traffic"}
      </Button>
      {setDemo.isError ? (
        <span className="text-sm text-danger" role="alert">
          {setDemo.error.message}
        </span>
      ) : null}
    </div>
  );
}
