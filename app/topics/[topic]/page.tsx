import type { Metadata } from "next";
import { TopicView } from "@/components/topic/topic-view";
import { routeParam } from "@/components/ui/route-param";

type Props = { params: Promise<{ topic: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: routeParam((await params).topic) };
}

export default async function TopicPage({ params }: Props) {
  const { topic } = await params;
  return <TopicView name={routeParam(topic)} />;
}
