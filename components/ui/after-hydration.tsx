"use client";

import { useSyncExternalStore, type ReactNode } from "react";

const subscribe = () => () => {};

/**
 * Renders `fallback` on the server and while React hydrates, `children` from then on. For a view inside a
 * Suspense boundary whose first render depends on data fetched in the browser: React may hydrate such a
 * boundary late, or start it again, after a query already answered, and the client's render would then differ
 * from the server's HTML (a hydration error). Hydration always renders the server's snapshot here.
 */
export function AfterHydration({ children, fallback }: { children: ReactNode; fallback: ReactNode }) {
  const hydrated = useSyncExternalStore(
    subscribe,
    () => true,
    () => false,
  );
  return hydrated ? children : fallback;
}
