import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

/** Deletes the JetStream streams a test made on `server` (host:port); missing ones are fine. */
export async function deleteStreams(server: string, names: readonly string[]): Promise<void> {
  const nc = await connect({ servers: server });
  try {
    const jsm = await jetstreamManager(nc);
    for (const name of names) await jsm.streams.delete(name).catch(() => false);
  } finally {
    await nc.close();
  }
}
