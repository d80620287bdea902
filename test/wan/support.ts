/** Real sockets and peers for the WAN proxy tests: UDP echo/sink servers, clients, socat. */
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { startWanProxy, type Impairment, type RelayProtocol, type RelaySpec, type WanProxy } from "../../lab/wan/index.js";
import { requirePeer } from "../support/peers.js";

import { setTimeout as sleep } from "node:timers/promises";

export { sleep };

/** Poll `done` every 5 ms until it holds; false when `ms` pass first. */
export async function waitUntil(done: () => boolean, ms = 5_000): Promise<boolean> {
  const until = performance.now() + ms;
  while (!done()) {
    if (performance.now() > until) return false;
    await sleep(5);
  }
  return true;
}

/** Everything a test opened, closed in afterEach. */
export class Cleanup {
  #fns: (() => unknown)[] = [];
  add<T>(fn: () => unknown, value: T): T {
    this.#fns.push(fn);
    return value;
  }
  async run(): Promise<void> {
    for (const fn of this.#fns.splice(0).reverse()) await fn();
  }
}

export interface Received {
  data: Buffer;
  from: string;
  at: number;
}

/** A UDP socket on 127.0.0.1 that records every datagram it gets. */
export class UdpPeer {
  readonly received: Received[] = [];

  private constructor(readonly socket: Socket) {
    socket.on("message", (data, r) => this.received.push({ data, from: `${r.address}:${r.port}`, at: performance.now() }));
  }

  static async open(address = "127.0.0.1"): Promise<UdpPeer> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, address, resolve));
    return new UdpPeer(socket);
  }

  /** A server that sends every datagram back to where it came from. */
  static async echo(): Promise<UdpPeer> {
    const peer = await UdpPeer.open();
    peer.socket.on("message", (data, r) => peer.socket.send(data, r.port, r.address));
    return peer;
  }

  get port(): number {
    return this.socket.address().port;
  }

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  send(data: Uint8Array, port: number): void {
    this.socket.send(data, port, "127.0.0.1");
  }

  close(): void {
    this.socket.close();
  }
}

/** A datagram carrying its sequence number in the first 4 bytes. */
export function numbered(i: number, size = 100): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32BE(i, 0);
  return b;
}

export const seqOf = (r: Received) => r.data.readUInt32BE(0);

/**
 * Send `count` numbered datagrams in bursts of `burst`; after each burst wait
 * until `settled` holds (the receivers drained their sockets), so no socket
 * buffer on loopback overflows: any loss the test sees is the proxy's.
 */
export async function sendNumbered(from: UdpPeer, port: number, count: number, options: { size?: number; burst?: number; settled?: (sent: number) => boolean } = {}): Promise<void> {
  const burst = options.burst ?? 50;
  for (let i = 0; i < count; i++) {
    from.send(numbered(i, options.size), port);
    if ((i + 1) % burst === 0 || i + 1 === count) {
      const settled = options.settled;
      if (!settled) await sleep(0);
      else if (!(await waitUntil(() => settled(i + 1), 2_000))) throw new Error(`traffic did not settle after ${i + 1} datagrams`);
    }
  }
}

/** One proxy with one relay per `to`, all listening on 127.0.0.1 port 0. */
export function proxyTo(
  cleanup: Cleanup,
  to: { protocol?: RelayProtocol; port: number }[],
  impairment: Partial<Impairment> = {},
  extra: { seed?: number; idleTimeoutMs?: number } = {},
): Promise<WanProxy> {
  const relays: RelaySpec[] = to.map((t) => ({ protocol: t.protocol ?? "udp", listen: { address: "127.0.0.1", port: 0 }, to: { address: "127.0.0.1", port: t.port } }));
  return startWanProxy({ relays, impairment, seed: extra.seed ?? 7, ...(extra.idleTimeoutMs ? { idleTimeoutMs: extra.idleTimeoutMs } : {}) }).then((p) => cleanup.add(() => p.close(), p));
}

export interface SocatPeer {
  readonly proc: ChildProcess;
  /** The port of its listener, from its "listening on" log line. */
  readonly port: number;
  output(): string;
  /** Resolves when socat exits (at once if it already has). */
  exited(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real socat whose first address listens on 127.0.0.1 port 0: with `-d -d`
 * it logs the port it got ("listening on AF=2 127.0.0.1:54177"), so no port
 * is guessed. Resolves once it listens.
 */
export async function socat(args: string[]): Promise<SocatPeer> {
  const proc = spawn(requirePeer("socat"), ["-d", "-d", ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  const exit = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    await exit;
  };
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socat did not listen: ${out}`)), 5_000);
    const collect = (c: Buffer) => {
      out += c.toString();
      const m = /listening on AF=2 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stdout!.on("data", collect);
    proc.stderr!.on("data", collect);
    void exit.then(() => reject(new Error(`socat exited before listening: ${out}`)));
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return { proc, port, output: () => out, exited: () => exit, stop };
}
