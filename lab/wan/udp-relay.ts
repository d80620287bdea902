/**
 * UDP relay: every client endpoint gets its own upstream socket, so the
 * server sees one source per client (as it would through a NAT) and its
 * replies find their way back to the right client. A mapping with no
 * traffic either way for the idle timeout is forgotten.
 *
 * The client's datagrams always go to `to`; replies are accepted from any
 * source, but a server that answers from a new port and expects the client
 * to follow (TFTP) is not supported.
 */
import { isIPv6 } from "node:net";
import { describeError, type Clock, type Log, type TimerHandle } from "../../agent/core/index.js";
import { bindUdp, type DatagramSocket, type Endpoint, endpointKey } from "../../agent/net/index.js";
import type { Direction } from "./direction.js";

export interface UdpRelayOptions {
  listen: Endpoint;
  to: Endpoint;
  toServer: Direction;
  toClient: Direction;
  idleTimeoutMs: number;
  clock: Clock;
  log: Log;
}

class ClientMapping {
  upstream: DatagramSocket | undefined;
  /** Datagrams due before the upstream socket finished binding. */
  waiting: Uint8Array[] = [];
  lastActive: number;
  /** Where this client's datagrams go once the link releases them: made once, not per datagram. */
  readonly toServer: (d: Uint8Array) => void;
  readonly toClient: (d: Uint8Array) => void;

  constructor(
    readonly client: Endpoint,
    now: number,
    server: Endpoint,
    socket: DatagramSocket,
  ) {
    this.lastActive = now;
    this.toServer = (d) => {
      if (this.upstream) this.upstream.send(d, server);
      else this.waiting.push(d);
    };
    this.toClient = (d) => socket.send(d, client);
  }
}

export class UdpRelay {
  readonly #clients = new Map<string, ClientMapping>();
  #sweep: TimerHandle | undefined;
  #closed = false;

  private constructor(
    private readonly socket: DatagramSocket,
    private readonly o: UdpRelayOptions,
  ) {
    socket.onMessage((data, from) => this.#fromClient(data, from));
    this.#armSweep();
  }

  static async open(o: UdpRelayOptions): Promise<UdpRelay> {
    return new UdpRelay(await bindUdp({ address: o.listen.address, port: o.listen.port }), o);
  }

  get listen(): Endpoint {
    return this.socket.local;
  }

  get clients(): number {
    return this.#clients.size;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#sweep?.cancel();
    for (const m of this.#clients.values()) m.upstream?.close();
    this.#clients.clear();
    this.socket.close();
  }

  #fromClient(data: Uint8Array, from: Endpoint): void {
    const key = endpointKey(from);
    let mapping = this.#clients.get(key);
    if (!mapping) {
      mapping = new ClientMapping(from, this.o.clock.now(), this.o.to, this.socket);
      this.#clients.set(key, mapping);
      void this.#connect(key, mapping);
    }
    mapping.lastActive = this.o.clock.now();
    this.o.toServer.datagram(data, mapping.toServer);
  }

  async #connect(key: string, m: ClientMapping): Promise<void> {
    let upstream: DatagramSocket;
    try {
      upstream = await bindUdp({ address: isIPv6(this.o.to.address) ? "::" : "0.0.0.0" });
    } catch (err) {
      this.o.log.warn(`wan: no upstream socket for ${key}: ${describeError(err)}`);
      this.#clients.delete(key);
      return;
    }
    if (this.#closed || this.#clients.get(key) !== m) {
      upstream.close();
      return;
    }
    upstream.onMessage((data) => {
      m.lastActive = this.o.clock.now();
      this.o.toClient.datagram(data, m.toClient);
    });
    m.upstream = upstream;
    for (const d of m.waiting) upstream.send(d, this.o.to);
    m.waiting = [];
  }

  /** Check every half idle timeout: a mapping goes between 1 and 1.5 idle timeouts after its last datagram. */
  #armSweep(): void {
    this.#sweep = this.o.clock.setTimer("wan-udp-idle", this.o.idleTimeoutMs / 2, () => {
      const now = this.o.clock.now();
      for (const [key, m] of this.#clients) {
        if (now - m.lastActive < this.o.idleTimeoutMs) continue;
        m.upstream?.close();
        this.#clients.delete(key);
      }
      if (!this.#closed) this.#armSweep();
    });
  }
}
