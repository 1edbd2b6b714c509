import type { ReactNode } from "react";
import { errorMessage, problemDetails } from "../api/errors";
import { Button } from "./button";
import { cx } from "./cx";

// Loading, empty and error states, used by every view that waits for data.

export function LoadingState({ label = "Loading…", className }: { label?: string; className?: string }) {
  return (
    <div role="status" aria-live="polite" className={cx("flex items-center gap-2 py-6 text-sm text-muted", className)}>
      <span aria-hidden className="size-3 animate-pulse rounded-full bg-accent" />
      {label}
    </div>
  );
}

export function EmptyState({ title, children, className }: { title: string; children?: ReactNode; className?: string }) {
  return (
    <div className={cx("rounded-md border border-dashed border-line px-4 py-6 text-center", className)}>
      <p className="text-sm font-medium">{title}</p>
      {children && <div className="mt-1 text-sm text-muted">{children}</div>}
    </div>
  );
}

/** Shows what failed and why; `onRetry` adds a Retry button. */
export function ErrorState({
  title = "Something went wrong",
  error,
  onRetry,
  className,
}: {
  title?: string;
  error: unknown;
  onRetry?: () => void;
  className?: string;
}) {
  const details = problemDetails(error);
  return (
    <div role="alert" className={cx("rounded-md border border-danger/40 bg-danger-soft px-4 py-3 text-sm", className)}>
      <p className="font-semibold text-danger">{title}</p>
      <p className="mt-1 break-words">{errorMessage(error)}</p>
      {details.length > 0 && (
        <ul className="mt-1 list-disc pl-5">
          {details.map((d) => (
            <li key={d}>{d}</li>
          ))}
        </ul>
      )}
      {onRetry && (
        <Button size="sm" className="mt-2" onClick={onRetry}>
          Retry
        </Button>
      )}
    </div>
  );
}
