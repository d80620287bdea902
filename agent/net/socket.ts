/**
 * The datagram socket the CAPWAP endpoints need, as an interface: the real
 * one is Node's UDP; tests use an in-memory network driven by a ManualClock.
 */
import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";

export interface Endpoint {
  address: string;
  port: number;
}

export type DatagramHandler = (data: Uint8Array, from: Endpoint) => void;

export interface DatagramSocket {
  readonly local: Endpoint;
  send(data: Uint8Array, to: Endpoint): void;
  /** One handler; setting it again replaces the previous one. */
  onMessage(handler: DatagramHandler): void;
  close(): void;
}

/** The local address the kernel would use to reach `remote` (a connected UDP socket tells, without sending). */
export async function localAddressToward(remote: string): Promise<string> {
  const socket = createSocket(isIPv6(remote) ? "udp6" : "udp4");
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.connect(5246, remote, () => resolve());
    });
    return socket.address().address;
  } finally {
    socket.close();
  }
}

/** "192.0.2.7:5246", "[2001:db8::7]:5246": the one text form of an endpoint (logs, map keys, DTLS cookie input). */
export function endpointKey(e: Endpoint): string {
  return isIPv6(e.address) ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

export interface UdpOptions {
  address?: string;
  /** 0 (default) lets the kernel choose. */
  port?: number;
  /** Allow sending to broadcast addresses (discovery). */
  broadcast?: boolean;
  /**
   * Kernel receive buffer. A controller facing a join storm needs more than
   * the default ~200 KB or bursts of requests are dropped before it reads
   * them; the kernel caps it at net.core.rmem_max.
   */
  receiveBufferBytes?: number;
}

/** Bind a Node UDP socket. Send errors (e.g. ICMP unreachable) are dropped as datagram loss. */
export async function bindUdp(options: UdpOptions = {}): Promise<DatagramSocket> {
  const address = options.address ?? "127.0.0.1";
  const socket: Socket = createSocket({ type: isIPv6(address) ? "udp6" : "udp4", reuseAddr: false });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(options.port ?? 0, address, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  if (options.broadcast) socket.setBroadcast(true);
  if (options.receiveBufferBytes) {
    try {
      socket.setRecvBufferSize(options.receiveBufferBytes);
    } catch {
      // Above net.core.rmem_max without privileges: keep the default.
    }
  }
  let handler: DatagramHandler = () => {};
  socket.on("message", (msg, rinfo) => handler(msg, { address: rinfo.address, port: rinfo.port }));
  // A UDP socket reports asynchronous send failures here; for CAPWAP they are loss.
  socket.on("error", () => {});
  const bound = socket.address();
  let closed = false;
  return {
    local: { address: bound.address, port: bound.port },
    send(data, to) {
      // No callback: a failure is the "error" event above (loss), and a callback per datagram would cost a completion call each.
      if (!closed) socket.send(data, to.port, to.address);
    },
    onMessage(h) {
      handler = h;
    },
    close() {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
}
