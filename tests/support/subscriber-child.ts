/**
 * A subscriber run as a child process, so a test can kill it with SIGKILL mid-stream (any driver's URL).
 * argv: <subscription URL> <name, or "" for a private subscription> <ackDeadlineMs>. Prints "ready" once
 * subscribed, then "acking <id>" before it acks each message (stdout to a pipe is synchronous on Linux), so
 * every message the server may count as acked has been reported.
 */
import { openSubscription } from "@whisper/core";

const [url, name, ackDeadline] = process.argv.slice(2);
const sub = await openSubscription(url!, { name: name || undefined, ackDeadlineMs: Number(ackDeadline), concurrency: 4 });
process.stdout.write("ready\n");
await sub.receive((message) => {
  process.stdout.write(`acking ${message.id}\n`);
  message.ack();
});
