"use client";

import { useEffect } from "react";

// Keyboard shortcuts of every page. Contract: "/" (no modifier, not typed into a field) focuses the page's
// filter: the first visible element marked data-shortcut="filter" (pages mark their main filter, and give it
// aria-keyshortcuts="/"); on a page without one the key does nothing. Other keys are left alone.

function typingInto(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

function visible(element: HTMLElement): boolean {
  return element.getClientRects().length > 0 && !element.closest("[inert], dialog:not([open])");
}

export function KeyboardShortcuts() {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
      if (typingInto(event.target) || document.querySelector("dialog[open]")) return;
      const filter = [...document.querySelectorAll<HTMLElement>('[data-shortcut="filter"]')].find(visible);
      if (!filter) return;
      event.preventDefault();
      filter.focus();
      if (filter instanceof HTMLInputElement) filter.select();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);
  return null;
}
