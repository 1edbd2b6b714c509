import type { Metadata } from "next";
import { Suspense } from "react";
import { OrderingBoard } from "@/components/ordering/ordering-board";
import { AfterHydration } from "@/components/ui/after-hydration";
import { LoadingState } from "@/components/ui/states";

export const metadata: Metadata = { title: "Ordering" };

export default function OrderingPage() {
  return (
    <Suspense fallback={<LoadingState />}>
      <AfterHydration fallback={<LoadingState />}>
        <OrderingBoard />
      </AfterHydration>
    </Suspense>
  );
}
