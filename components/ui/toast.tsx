"use client";

import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { Button } from "./button";
import { cx } from "./cx";

// Toasts: one-line notices of what an action did, in a fixed corner of the viewport, so they are seen however
// far the page is scrolled. Contract: toast() shows a notice at once; an "ok" or "neutral" one goes away after
// TOAST_MS, a "danger" one stays until closed; at most MAX_TOASTS are shown (the oldest goes first). The list
// is a polite live region, so screen readers announce each notice without moving focus. A toast never holds
// the only copy of a result: the view that started the action shows it too.

export type ToastTone = "ok" | "danger" | "neutral";
type Toast = { id: number; tone: ToastTone; text: string };

/** How long a non-error toast stays. */
export const TOAST_MS = 8_000;
const MAX_TOASTS = 4;

const tones: Record<ToastTone, string> = {
  ok: "border-ok/40",
  danger: "border-danger/60",
  neutral: "border-line",
};

const ToastContext = createContext<((text: string, tone?: ToastTone) => void) | null>(null);

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(0);
  const timers = useRef(new Map<number, ReturnType<typeof setTimeout>>());

  const dismiss = useCallback((id: number) => {
    clearTimeout(timers.current.get(id));
    timers.current.delete(id);
    setToasts((list) => list.filter((t) => t.id !== id));
  }, []);

  const show = useCallback(
    (text: string, tone: ToastTone = "neutral") => {
      const id = ++nextId.current;
      setToasts((list) => [...list, { id, tone, text }].slice(-MAX_TOASTS));
      if (tone !== "danger") timers.current.set(id, setTimeout(() => dismiss(id), TOAST_MS));
    },
    [dismiss],
  );

  useEffect(() => {
    const pending = timers.current;
    return () => pending.forEach((timer) => clearTimeout(timer));
  }, []);

  const value = useMemo(() => show, [show]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <section aria-label="Notifications" className="pointer-events-none fixed inset-x-2 bottom-2 z-50 flex justify-end sm:inset-x-auto sm:right-4 sm:bottom-4">
        <ol aria-live="polite" className="flex w-full flex-col gap-2 sm:w-96">
          {toasts.map((t) => (
            <li
              key={t.id}
              data-testid="toast"
              data-tone={t.tone}
              className={cx("pointer-events-auto flex items-start gap-2 rounded-md border bg-surface px-3 py-2 text-sm shadow-lg", tones[t.tone])}
            >
              <span className={cx("min-w-0 flex-1 break-words", t.tone === "danger" && "text-danger")}>{t.text}</span>
              <Button variant="ghost" size="sm" aria-label="Dismiss notification" onClick={() => dismiss(t.id)}>
                ✕
              </Button>
            </li>
          ))}
        </ol>
      </section>
    </ToastContext.Provider>
  );
}

/** The function that shows a toast; outside a ToastProvider it throws (a missing provider is a bug). */
export function useToast(): (text: string, tone?: ToastTone) => void {
  const show = useContext(ToastContext);
  if (!show) throw new Error("useToast() needs a <ToastProvider> above it");
  return show;
}
