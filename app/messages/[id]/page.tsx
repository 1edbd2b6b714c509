import type { Metadata } from "next";
import { MessageInspector } from "@/components/message/message-inspector";
import { routeParam } from "@/components/ui/route-param";

type Props = { params: Promise<{ id: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Message ${routeParam((await params).id)}` };
}

export default async function MessagePage({ params }: Props) {
  const { id } = await params;
  return <MessageInspector id={routeParam(id)} />;
}
