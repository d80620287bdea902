import { connect, createServer, type Socket } from "node:net";

export interface StallingServer {
  port: number;
  close(): Promise<void>;
}

/**
 * A hung server on 127.0.0.1: it accepts and never says a word — or, given
 * `relayTo`, relays to 127.0.0.1:`relayTo` and stops passing the answer on
 * after `after` bytes (a server gone silent mid-file).
 */
export async function stallingServer(o: { relayTo?: number; after?: number } = {}): Promise<StallingServer> {
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on("error", () => {});
    s.once("close", () => sockets.delete(s));
  };
  const server = createServer((client) => {
    track(client);
    if (o.relayTo === undefined) return;
    const upstream = connect({ port: o.relayTo, host: "127.0.0.1" });
    track(upstream);
    client.pipe(upstream);
    let passed = 0;
    upstream.on("data", (d: Buffer) => {
      if (passed < (o.after ?? 0)) client.write(d);
      passed += d.length;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
