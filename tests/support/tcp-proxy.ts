import net from "node:net";
import type { Duplex } from "node:stream";

/**
 * A TCP proxy on 127.0.0.1 that a test controls, in front of a broker it must not stop: `cut()` drops every
 * connection through it (the broker sees clients vanish, the clients see a reset), `refuse()` makes new
 * connections fail until `accept()`. `close()` ends it. `clientToServer`, if given, makes a stream per
 * connection that the client's bytes pass through on their way to the broker (to watch or add protocol frames).
 */
export class TcpProxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #refusing = false;
  /** Connections made through the proxy so far (a reconnect shows as a new one). */
  connections = 0;

  private constructor(
    server: net.Server,
    readonly port: number,
  ) {
    this.#server = server;
  }

  static async start(
    targetPort: number,
    targetHost = "127.0.0.1",
    { clientToServer }: { clientToServer?: () => Duplex } = {},
  ): Promise<TcpProxy> {
    const holder: { proxy?: TcpProxy } = {};
    const server = net.createServer((client) => {
      const proxy = holder.proxy!;
      if (proxy.#refusing) return void client.destroy();
      proxy.connections++;
      const upstream = net.connect({ host: targetHost, port: targetPort });
      for (const socket of [client, upstream]) {
        proxy.#sockets.add(socket);
        socket.once("close", () => proxy.#sockets.delete(socket));
        socket.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      if (clientToServer === undefined) client.pipe(upstream);
      else client.pipe(clientToServer()).pipe(upstream);
      upstream.pipe(client);
      client.once("close", () => upstream.destroy());
      upstream.once("close", () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    holder.proxy = new TcpProxy(server, (server.address() as net.AddressInfo).port);
    return holder.proxy;
  }

  /** Drops every open connection (both sides). */
  cut(): void {
    for (const socket of this.#sockets) socket.resetAndDestroy();
  }

  refuse(): void {
    this.#refusing = true;
  }

  accept(): void {
    this.#refusing = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
