"use client";

import { useId, useRef, type KeyboardEvent } from "react";
import { useCanAdmin } from "../api/hooks";
import type { TopicSummary } from "../api/types";
import { Button } from "../ui/button";
import { cx } from "../ui/cx";
import { LiveTail } from "./live-tail";
import { PublishForm } from "./publish-form";
import { SubscriptionsPanel } from "./subscriptions-panel";
import type { SidePanel as Panel } from "./history-view-state";

type Tab = Exclude<Panel, "none">;

/**
 * The topic page's side panel: the live tail, the publish form (admins) and the subscriptions as tabs beside the
 * history, or hidden. The tabs stay mounted while the panel shows (the live tail keeps its stream when another tab
 * is open). Tabs follow the ARIA tabs pattern: one Tab stop, ArrowLeft/ArrowRight between them.
 */
export function SidePanel({ topic, tab, onTab }: { topic: TopicSummary; tab: Tab; onTab: (tab: Panel) => void }) {
  const admin = useCanAdmin();
  const tabs: { value: Tab; label: string }[] = [
    { value: "live", label: "Live tail" },
    ...(admin ? [{ value: "publish" as const, label: "Publish" }] : []),
    { value: "subscriptions", label: "Subscriptions" },
  ];
  const current = tabs.some((t) => t.value === tab) ? tab : "live";
  const id = useId();
  const refs = useRef(new Map<Tab, HTMLButtonElement>());

  function onKey(event: KeyboardEvent<HTMLButtonElement>, index: number) {
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (step === 0) return;
    event.preventDefault();
    const next = tabs[(index + step + tabs.length) % tabs.length]!.value;
    onTab(next);
    refs.current.get(next)?.focus();
  }

  return (
    <div className="flex flex-col gap-3">
      <div className="flex items-center justify-between gap-2">
        <div role="tablist" aria-label="Topic tools" className="flex rounded-md border border-line p-0.5">
          {tabs.map((t, i) => (
            <button
              key={t.value}
              ref={(el) => {
                if (el) refs.current.set(t.value, el);
                else refs.current.delete(t.value);
              }}
              type="button"
              role="tab"
              id={`${id}-${t.value}-tab`}
              aria-selected={current === t.value}
              aria-controls={`${id}-${t.value}`}
              tabIndex={current === t.value ? 0 : -1}
              onClick={() => onTab(t.value)}
              onKeyDown={(e) => onKey(e, i)}
              className={cx("rounded px-2.5 py-1 text-xs", current === t.value ? "bg-accent text-on-accent" : "text-muted hover:bg-subtle hover:text-ink")}
            >
              {t.label}
            </button>
          ))}
        </div>
        <Button size="sm" variant="ghost" onClick={() => onTab("none")} aria-label="Hide the side panel">
          Hide
        </Button>
      </div>
      {tabs.map((t) => (
        <div key={t.value} role="tabpanel" id={`${id}-${t.value}`} aria-labelledby={`${id}-${t.value}-tab`} hidden={current !== t.value}>
          {t.value === "live" && <LiveTail topic={topic.name} />}
          {t.value === "publish" && <PublishForm topic={topic.name} ordered={topic.ordering} />}
          {t.value === "subscriptions" && <SubscriptionsPanel topic={topic.name} />}
        </div>
      ))}
    </div>
  );
}
