/**
 * Reads a Server-Sent Events response of the dashboard (GET /api/live) in the background: every `frame`
 * event's message ids are collected in order, every `status` event's data kept as the latest status.
 */
export interface LiveReader {
  /** Ids of the summaries received, in arrival order. */
  readonly ids: string[];
  status: unknown;
  close(): void;
}

export async function readLive(url: string, headers: Record<string, string>): Promise<LiveReader> {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  if (!response.ok || !response.body) throw new Error(`GET ${url} answered ${response.status}`);
  const reader: LiveReader = { ids: [], status: undefined, close: () => abort.abort() };
  const decoder = new TextDecoder();
  void (async () => {
    let buffer = "";
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (data === undefined) continue;
        if (event === "frame") for (const m of (JSON.parse(data) as { messages: Array<{ id: string }> }).messages) reader.ids.push(m.id);
        if (event === "status") reader.status = JSON.parse(data);
      }
    }
  })().catch(() => {});
  return reader;
}
