/**
 * TCP relay: one upstream connection per accepted client, data held back by
 * the one-way delay and paced by the link rate in each direction, in order.
 * A half-close (FIN) and a reset (RST, or any socket error) cross the link
 * behind the data sent before them.
 *
 * Loss, duplication, reordering and jitter do not apply: the relay carries
 * a byte stream, and what TCP itself does over a lossy path is out of scope.
 * The TCP handshake is not delayed either: the client's connect completes at
 * the proxy.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import type { Endpoint } from "../../agent/net/index.js";
import type { Direction } from "./direction.js";
import type { Impairment } from "./impairment.js";

export interface TcpRelayOptions {
  listen: Endpoint;
  to: Endpoint;
  toServer: Direction;
  toClient: Direction;
  impairment: Impairment;
}

/** Never pause a sender below this much data in transit. */
const MIN_HIGH_WATER_BYTES = 64 * 1024;
/** Without a rate limit, buffer in transit as a 1 Gbit/s link would. */
const UNLIMITED_NOMINAL_BPS = 1e9;

/**
 * How much data of one connection may be on the link (queued or on the wire)
 * before its sender is paused: what the link holds, so the pause never
 * lowers throughput below the link rate. The receiving socket may hold as
 * much again, counted apart: a receiver draining what arrived does not stop
 * the link from carrying more, as with a real TCP window.
 */
function highWaterBytes(imp: Impairment): number {
  const rate = imp.rateBps || UNLIMITED_NOMINAL_BPS;
  const holdMs = imp.delayMs + (imp.rateBps ? imp.queueMs : 0);
  return Math.max(MIN_HIGH_WATER_BYTES, ((rate / 8) * holdMs) / 1000);
}

export class TcpRelay {
  /** Both sockets of every open connection. */
  readonly #connections = new Set<readonly [Socket, Socket]>();

  private constructor(
    private readonly server: Server,
    private readonly o: TcpRelayOptions,
  ) {
    server.on("connection", (client) => this.#accept(client));
  }

  static async open(o: TcpRelayOptions): Promise<TcpRelay> {
    const server = createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(o.listen.port, o.listen.address, () => {
        server.off("error", reject);
        resolve();
      });
    });
    return new TcpRelay(server, o);
  }

  get listen(): Endpoint {
    const a = this.server.address();
    if (a === null || typeof a === "string") throw new Error("TCP relay is not listening");
    return { address: a.address, port: a.port };
  }

  /** Connections with either socket still open. */
  get clients(): number {
    return this.#connections.size;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const pair of this.#connections) for (const s of pair) s.destroy();
    this.#connections.clear();
    await closed;
  }

  #accept(client: Socket): void {
    const upstream = connect({ host: this.o.to.address, port: this.o.to.port, allowHalfOpen: true });
    // Node buffers writes made before the upstream connection is up, so the
    // client is read from at once.
    const highWater = highWaterBytes(this.o.impairment);
    const pair = [client, upstream] as const;
    this.#connections.add(pair);
    let open = 2;
    for (const s of pair) {
      s.setNoDelay(true);
      s.once("close", () => {
        if (--open === 0) this.#connections.delete(pair);
      });
    }
    splice(client, upstream, this.o.toServer, highWater);
    splice(upstream, client, this.o.toClient, highWater);
  }
}

/** Carry `from`'s data, FIN and RST to `to` across one direction of the link. */
function splice(from: Socket, to: Socket, direction: Direction, highWater: number): void {
  let inTransit = 0;
  let paused = false;
  const full = () => inTransit > highWater || to.writableLength > highWater;
  const relieve = () => {
    if (paused && inTransit <= highWater / 2 && to.writableLength <= highWater / 2) {
      paused = false;
      from.resume();
    }
  };
  from.on("data", (chunk: Buffer) => {
    inTransit += chunk.length;
    direction.stream(chunk, (segment) => {
      inTransit -= segment.length;
      if (!to.destroyed) to.write(segment);
      relieve();
    });
    if (!paused && full()) {
      paused = true;
      from.pause();
    }
  });
  to.on("drain", relieve);
  from.on("end", () =>
    direction.after(() => {
      if (!to.destroyed) to.end();
    }),
  );
  // ECONNRESET, EPIPE, a refused upstream connect: the other side is reset
  // too, as the peer of a real connection would be.
  from.on("error", () => direction.after(() => to.resetAndDestroy()));
}
