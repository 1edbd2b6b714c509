import { TopicsOverview } from "@/components/topics/topics-overview";

export default function HomePage() {
  return <TopicsOverview />;
}
