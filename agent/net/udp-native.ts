/**
 * A DatagramSocket over the vap_udp addon (agent/net/native/udp.c): for
 * bulk transfers, where Node's dgram costs more per datagram than the work
 * (a lookup tick and a C++ call per send, a 64 KB allocation and a JS
 * callback per receive). Here a readable socket is drained by recvmmsg and
 * its whole batch reaches JS in one call; the sends of one tick leave
 * together by sendmmsg when the tick's JS is done.
 */
import { isIP } from "node:net";
import { loadAddon } from "../core/index.js";
import type { DatagramSocket, Endpoint, UdpOptions } from "./socket.js";

interface NativeUdpHandle {
  readonly address: string;
  readonly port: number;
  /** [length, port] of each datagram of the batch being delivered. */
  readonly meta: Int32Array;
}

interface VapUdpAddon {
  open(
    address: string,
    port: number,
    options: { maxDatagram: number; batch: number; receiveBufferBytes?: number; sendBufferBytes?: number; broadcast?: number; reuse?: number },
    onBatch: (count: number, batch: ArrayBuffer, from: string | string[], answered: boolean) => void,
  ): NativeUdpHandle;
  /**
   * Datagram i is staged[spans[2i] .. +spans[2i+1]] followed by bodies[i]
   * (when there is one), gathered by the kernel: small parts are copied
   * into one staging area, large ones are sent from where they lie.
   */
  send(handle: NativeUdpHandle, staged: Uint8Array, spans: Int32Array, bodies: (Uint8Array | undefined)[], count: number, address: string, port: number): void;
  close(handle: NativeUdpHandle): void;
  stats(handle: NativeUdpHandle): [sentLater: number, sendsDropped: number, receivesTruncated: number];
  unref(handle: NativeUdpHandle): void;
  /** Datagrams as for send, copied, to leave when `trigger` arrives from address:port first in a batch. */
  arm(handle: NativeUdpHandle, trigger: Uint8Array, staged: Uint8Array, spans: Int32Array, bodies: (Uint8Array | undefined)[], count: number, address: string, port: number): void;
  disarm(handle: NativeUdpHandle): void;
}

const addon = loadAddon<VapUdpAddon>("vap_udp");

/** The largest UDP payload (IPv4: 65535 − 20 − 8); each receive slot holds one. */
export const MAX_UDP_PAYLOAD = 65507;

/** Datagrams one receive call (recvmmsg) takes: a TFTP window of 16 to 64 blocks is one or two batches. */
export const DEFAULT_RECEIVE_BATCH = 32;

/** Datagrams one send call takes at most; more in one tick go in several calls. */
const SEND_SLOTS = 256;
/** A part up to this size is copied into the staging area rather than passed by reference. */
const SMALL_PART_BYTES = 512;
/** The staging area for small parts: room for SEND_SLOTS DATA headers, or a few small datagrams. */
const STAGED_BYTES = 16 * 1024;
const EMPTY = new Uint8Array(0);

export interface NativeUdpOptions extends UdpOptions {
  /** Kernel send buffer (SO_SNDBUF; as root above net.core.wmem_max). */
  sendBufferBytes?: number;
  /** The largest datagram delivered whole; a longer one is dropped (counted as truncated). Default MAX_UDP_PAYLOAD. */
  maxDatagram?: number;
  /** Datagrams per receive call. Default DEFAULT_RECEIVE_BATCH. */
  batch?: number;
  /**
   * Every batch is read into the same memory, and the handler sees it in
   * place: its data is valid only until it returns, so a handler that keeps
   * bytes copies them. Spares a fresh buffer, filled by a copy, per batch
   * (the TFTP client's 20,000 per 50 MB). Default false: data stays valid.
   */
  reuseReceiveMemory?: boolean;
}

/** What a native socket counted, for tests and diagnostics. */
export interface NativeUdpStats {
  /** Datagrams the kernel refused at first (EAGAIN) and that were sent when the socket turned writable. */
  sentLater: number;
  /** Datagrams lost on sending: unreachable, too big, or beyond the deferred queue's bound. */
  sendsDropped: number;
  /** Received datagrams longer than maxDatagram, dropped. */
  receivesTruncated: number;
}

/** A native socket's handler also hears whether this datagram fired the armed reply (which has left already). */
export type NativeDatagramHandler = (data: Uint8Array, from: Endpoint, answered: boolean) => void;

/** A reply that waits in the socket for the datagram that releases it: at most 64 datagrams, each a small head and a body, as sendParts. */
export interface ArmedReply {
  /** The exact datagram that releases it (a TFTP ACK). */
  trigger: Uint8Array;
  to: Endpoint;
  datagrams: readonly (readonly [head: Uint8Array, body: Uint8Array])[];
}

export interface NativeDatagramSocket extends DatagramSocket {
  /** One datagram of `head` then `body`, joined by the kernel from where they lie (no copy into a packet). */
  sendParts(head: Uint8Array, body: Uint8Array, to: Endpoint): void;
  stats(): NativeUdpStats;
  onMessage(handler: NativeDatagramHandler): void;
  /**
   * The reply leaves the moment its trigger arrives from `to` as the first
   * datagram the socket reads in a batch, before any JS runs; the handler
   * then hears that datagram with `answered`. Only the first: any datagram
   * before it could change the answer. Arming again replaces the reply.
   * What this tick queued with send leaves before the reply can.
   */
  arm(reply: ArmedReply): void;
  disarm(): void;
  /** The socket stops keeping the process alive; it still sends and receives while anything else does. */
  unref(): void;
}

/**
 * Bind a native UDP socket (IPv4 or IPv6 by the address). close() sends
 * what this tick queued first (the ERROR or final ACK that ends a TFTP
 * transfer leaves before the socket closes). A bind failure
 * rejects with an Error whose `code` is the errno's name ("EADDRINUSE"),
 * as Node's dgram does. Data handed to a handler stays valid after it
 * returns (each batch is a fresh buffer), so receivers may keep it; unless
 * the socket reuses its receive memory (reuseReceiveMemory).
 */
export async function bindNativeUdp(options: NativeUdpOptions = {}): Promise<NativeDatagramSocket> {
  const address = options.address ?? "127.0.0.1";
  let handler: NativeDatagramHandler = () => {};
  let closed = false;
  const maxDatagram = options.maxDatagram ?? MAX_UDP_PAYLOAD;
  const reuse = options.reuseReceiveMemory === true;
  const onBatch = (count: number, batch: ArrayBuffer, from: string | string[], answered: boolean) => {
    // Packed one after another in a fresh buffer, or in place in the socket's own memory, one per maxDatagram slot.
    let offset = 0;
    for (let i = 0; i < count && !closed; i++) {
      const length = meta[2 * i]!;
      handler(new Uint8Array(batch, offset, length), { address: typeof from === "string" ? from : from[i]!, port: meta[2 * i + 1]! }, answered && i === 0);
      offset += reuse ? maxDatagram : length;
    }
  };
  const handle = addon.open(
    address,
    options.port ?? 0,
    {
      maxDatagram,
      batch: options.batch ?? DEFAULT_RECEIVE_BATCH,
      receiveBufferBytes: options.receiveBufferBytes,
      sendBufferBytes: options.sendBufferBytes,
      broadcast: options.broadcast ? 1 : 0,
      reuse: reuse ? 1 : 0,
    },
    onBatch,
  );
  const meta = handle.meta;
  const family = address.includes(":") ? 6 : 4;

  // This tick's datagrams, all to `queuedTo` (a send elsewhere flushes them first, so order holds): each is a
  // small part copied into `staged` (its span in `spans`) and a large one passed by reference (`bodies`).
  // Copying the small parts spares the addon from detaching each small typed array V8 keeps on its heap.
  const staged = new Uint8Array(STAGED_BYTES);
  const spans = new Int32Array(2 * SEND_SLOTS);
  let bodies: (Uint8Array | undefined)[] = [];
  let stagedAt = 0;
  let queuedTo: Endpoint | undefined;
  let flushScheduled = false;
  /** The last destination checked: a transfer sends to one peer object, validated once. */
  let checked: Endpoint | undefined;
  /** One datagram into the staging area: its head copied, its body by reference. */
  const stage = (head: Uint8Array, body: Uint8Array | undefined) => {
    const i = bodies.length;
    spans[2 * i] = stagedAt;
    spans[2 * i + 1] = head.length;
    staged.set(head, stagedAt);
    stagedAt += head.length;
    bodies.push(body);
  };
  /** The staged bodies, handed over; the staging area is empty again. */
  const takeStaged = () => {
    const b = bodies;
    bodies = [];
    stagedAt = 0;
    return b;
  };
  const flush = () => {
    flushScheduled = false;
    const count = bodies.length;
    if (count === 0 || closed) return;
    addon.send(handle, staged, spans, takeStaged(), count, queuedTo!.address, queuedTo!.port);
  };
  const check = (to: Endpoint) => {
    if (to === checked) return;
    // An IPv6 socket reaches IPv4 peers as IPv4-mapped addresses; an IPv4 socket only IPv4 ones.
    const version = isIP(to.address);
    if (version === 0 || version > family) throw new Error(`cannot send to "${to.address}": not an IPv${family} address`);
    if (!Number.isInteger(to.port) || to.port < 1 || to.port > 65535) throw new Error(`cannot send to port ${to.port}: not 1 to 65535`);
    checked = to;
  };
  const queue = (head: Uint8Array, body: Uint8Array | undefined, to: Endpoint) => {
    if (closed) return;
    check(to);
    if (queuedTo && (queuedTo.port !== to.port || queuedTo.address !== to.address)) flush();
    if (bodies.length === SEND_SLOTS || stagedAt + head.length > STAGED_BYTES) flush();
    stage(head, body);
    queuedTo = to;
    if (!flushScheduled) {
      flushScheduled = true;
      queueMicrotask(flush);
    }
  };
  const queueWhole = (data: Uint8Array, to: Endpoint) => (data.length <= SMALL_PART_BYTES ? queue(data, undefined, to) : queue(EMPTY, data, to));

  return {
    local: { address: handle.address, port: handle.port },
    send(data, to) {
      queueWhole(data, to);
    },
    sendParts(head, body, to) {
      if (head.length > SMALL_PART_BYTES) {
        const joined = new Uint8Array(head.length + body.length);
        joined.set(head);
        joined.set(body, head.length);
        return queueWhole(joined, to);
      }
      queue(head, body, to);
    },
    arm({ trigger, to, datagrams }) {
      if (closed) return;
      check(to);
      // Staged as sends are (the addon copies heads and bodies), once this tick's sends have left.
      flush();
      for (const [head, body] of datagrams) stage(head, body);
      addon.arm(handle, trigger, staged, spans, takeStaged(), datagrams.length, to.address, to.port);
    },
    disarm() {
      if (!closed) addon.disarm(handle);
    },
    onMessage(h) {
      handler = h;
    },
    close() {
      if (closed) return;
      flush();
      closed = true;
      addon.close(handle);
    },
    unref() {
      if (!closed) addon.unref(handle);
    },
    stats() {
      const [sentLater, sendsDropped, receivesTruncated] = addon.stats(handle);
      return { sentLater, sendsDropped, receivesTruncated };
    },
  };
}
