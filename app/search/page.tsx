import type { Metadata } from "next";
import { Suspense } from "react";
import { SearchView } from "@/components/search/search-view";
import { LoadingState } from "@/components/ui/states";

export const metadata: Metadata = { title: "Search" };

export default function SearchPage() {
  // The view reads its state from the URL (useSearchParams): rendered on the client, inside Suspense.
  return (
    <Suspense fallback={<LoadingState label="Loading search…" />}>
      <SearchView />
    </Suspense>
  );
}
