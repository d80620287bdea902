/**
 * UDP relay: every client endpoint gets its own upstream socket, so the
 * server sees one source per client (as it would through a NAT) and its
 * replies find their way back to the right client. A mapping with no
 * traffic either way for the idle timeout is forgotten.
 *
 * The client's datagrams go to `to` and replies are accepted from any
 * source, unless the relay follows TFTP transfer ids (`tftp:` pairs). A TFTP
 * server answers a request from a new port, its transfer id (RFC 1350), and
 * the client must send the rest of the transfer there; a client behind the
 * relay sees only the relay's port, so the relay follows for it, as the
 * client itself would: the source of the first reply the link delivers is
 * the transfer's, the client's later datagrams go there, and a reply from
 * any other port (a second transfer the server started for a retransmitted
 * request) is dropped where the client would have refused it. A request
 * (RRQ/WRQ) unlike the one that started the transfer starts a new one.
 */
import { isIPv6 } from "node:net";
import { describeError, equalBytes, type Clock, type Log, type TimerHandle } from "../../agent/core/index.js";
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
  /** Follow a TFTP server's transfer ids (see above). */
  tftp: boolean;
}

/** RFC 1350's opcodes that start a transfer: RRQ (1) and WRQ (2). */
const isTftpRequest = (d: Uint8Array) => d.length >= 2 && d[0] === 0 && (d[1] === 1 || d[1] === 2);

class ClientMapping {
  upstream: DatagramSocket | undefined;
  /** Datagrams due before the upstream socket finished binding. */
  waiting: Uint8Array[] = [];
  lastActive: number;
  /** TFTP: the request that started the current transfer, and the server's transfer id once a reply of it reached the client. */
  request: Uint8Array | undefined;
  transferId: Endpoint | undefined;
  /** Where this client's datagrams go once the link releases them: made once, not per datagram. */
  readonly toServer: (d: Uint8Array) => void;
  readonly toClient: (d: Uint8Array) => void;

  constructor(
    readonly client: Endpoint,
    now: number,
    server: Endpoint,
    private readonly socket: DatagramSocket,
  ) {
    this.lastActive = now;
    this.toServer = (d) => {
      const to = this.transferId && !isTftpRequest(d) ? this.transferId : server;
      if (this.upstream) this.upstream.send(d, to);
      else this.waiting.push(d);
    };
    this.toClient = (d) => socket.send(d, client);
  }

  /** TFTP, as the client's datagram leaves the link: a new request forgets the transfer id, a retransmitted one keeps it. */
  sentToTftpServer(d: Uint8Array): void {
    if (isTftpRequest(d) && !(this.request && equalBytes(d, this.request))) {
      this.request = d;
      this.transferId = undefined;
    }
    this.toServer(d);
  }

  /** TFTP, as a reply from `from` leaves the link: the first fixes the transfer id; one from another port is refused. */
  sentToTftpClient(d: Uint8Array, from: Endpoint): void {
    this.transferId ??= from;
    if (this.transferId.port === from.port && this.transferId.address === from.address) this.socket.send(d, this.client);
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
    const m = mapping;
    this.o.toServer.datagram(data, this.o.tftp ? (d) => m.sentToTftpServer(d) : m.toServer);
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
    upstream.onMessage((data, from) => {
      m.lastActive = this.o.clock.now();
      this.o.toClient.datagram(data, this.o.tftp ? (d) => m.sentToTftpClient(d, from) : m.toClient);
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
