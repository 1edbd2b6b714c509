import { count, createMessage, dedup, openSubscription, openTopic, pubAck, subAck } from "@whisper/core";

const topic = await openTopic("eventbus:orders", { ordering: true, use: [pubAck(), count()] });
const sub = await openSubscription("eventbus:orders", { name: "billing", concurrency: 16, use: [subAck(), dedup()] });

const stop = new AbortController();
const receiving = sub.receive(
  async (msg) => {
    console.log(`received ${msg.type} ${JSON.stringify(msg.data)} key=${msg.orderingKey} attempt=${msg.deliveryAttempt}`);
    if ((msg.data as { n: number }).n === 3) stop.abort();
  },
  { signal: stop.signal },
);

for (const n of [1, 2, 3]) {
  const id = await topic.publish(
    createMessage({ type: "order.created", source: "/shop", data: { n }, orderingKey: "customer-42" }),
  );
  console.log(`published ${id}`);
}

await receiving;
console.log("topic stats", topic.stats());
await Promise.all([topic.close(), sub.close()]);
