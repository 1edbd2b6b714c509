import type { Metadata } from "next";
import { Suspense } from "react";
import { TopicView } from "@/components/topic/topic-view";
import { routeParam } from "@/components/ui/route-param";
import { LoadingState } from "@/components/ui/states";

type Props = { params: Promise<{ topic: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: routeParam((await params).topic) };
}

export default async function TopicPage({ params }: Props) {
  const { topic } = await params;
  // The view keeps its state in the URL (useSearchParams), read on the client inside Suspense.
  return (
    <Suspense fallback={<LoadingState label="Loading topic…" />}>
      <TopicView name={routeParam(topic)} />
    </Suspense>
  );
}
