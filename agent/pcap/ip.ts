/**
 * Building and parsing the IPv4/IPv6 + UDP headers around captured CAPWAP
 * datagrams. vap captures what it sees above the socket, so it synthesizes
 * the lower layers; checksums are real so Wireshark's validation passes.
 */
import { isIPv4, isIPv6, SocketAddress } from "node:net";
import { concatBytes } from "../core/index.js";
import type { Endpoint } from "../net/index.js";

export interface UdpDatagram {
  src: Endpoint;
  dst: Endpoint;
  payload: Uint8Array;
}

function ipv4Bytes(a: string): Uint8Array {
  return Uint8Array.from(a.split(".").map(Number));
}

function ipv6Bytes(a: string): Uint8Array {
  const [head = "", tail] = a.split("::");
  const groups = (s: string) => (s ? s.split(":") : []);
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  // An embedded dotted IPv4 tail (::ffff:1.2.3.4) counts as two groups.
  const expand = (gs: string[]) => gs.flatMap((g) => (g.includes(".") ? (([a, b, c, d]) => [((a! << 8) | b!).toString(16), ((c! << 8) | d!).toString(16)])([...ipv4Bytes(g)]) : [g]));
  const hh = expand(h);
  const tt = expand(t);
  const all = [...hh, ...new Array<string>(tail === undefined ? 0 : 8 - hh.length - tt.length).fill("0"), ...tt];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

function sum16(b: Uint8Array, acc = 0): number {
  for (let i = 0; i + 1 < b.length; i += 2) acc += (b[i]! << 8) | b[i + 1]!;
  if (b.length % 2) acc += b[b.length - 1]! << 8;
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return ~acc & 0xffff;
}

function udpHeader(d: UdpDatagram, pseudo: Uint8Array): Uint8Array {
  const len = 8 + d.payload.length;
  const udp = new Uint8Array(8);
  udp[0] = d.src.port >> 8;
  udp[1] = d.src.port & 0xff;
  udp[2] = d.dst.port >> 8;
  udp[3] = d.dst.port & 0xff;
  udp[4] = len >> 8;
  udp[5] = len & 0xff;
  let c = fold(sum16(d.payload, sum16(udp, sum16(pseudo))));
  if (c === 0) c = 0xffff; // RFC 768: a computed zero is sent as all ones
  udp[6] = c >> 8;
  udp[7] = c & 0xff;
  return udp;
}

/** A raw IP packet (no link layer) carrying the datagram. */
export function buildIpUdpPacket(d: UdpDatagram): Uint8Array {
  const udpLen = 8 + d.payload.length;
  if (isIPv4(d.src.address) && isIPv4(d.dst.address)) {
    const src = ipv4Bytes(d.src.address);
    const dst = ipv4Bytes(d.dst.address);
    const pseudo = new Uint8Array(12);
    pseudo.set(src, 0);
    pseudo.set(dst, 4);
    pseudo[9] = 17;
    pseudo[10] = udpLen >> 8;
    pseudo[11] = udpLen & 0xff;
    const ip = new Uint8Array(20);
    const total = 20 + udpLen;
    ip[0] = 0x45;
    ip[2] = total >> 8;
    ip[3] = total & 0xff;
    ip[6] = 0x40; // don't fragment
    ip[8] = 64;
    ip[9] = 17;
    ip.set(src, 12);
    ip.set(dst, 16);
    const c = fold(sum16(ip));
    ip[10] = c >> 8;
    ip[11] = c & 0xff;
    return concatBytes([ip, udpHeader(d, pseudo), d.payload]);
  }
  if (isIPv6(d.src.address) && isIPv6(d.dst.address)) {
    const src = ipv6Bytes(d.src.address);
    const dst = ipv6Bytes(d.dst.address);
    const pseudo = new Uint8Array(40);
    pseudo.set(src, 0);
    pseudo.set(dst, 16);
    pseudo[34] = udpLen >> 8;
    pseudo[35] = udpLen & 0xff;
    pseudo[39] = 17;
    const ip = new Uint8Array(40);
    ip[0] = 0x60;
    ip[4] = udpLen >> 8;
    ip[5] = udpLen & 0xff;
    ip[6] = 17;
    ip[7] = 64;
    ip.set(src, 8);
    ip.set(dst, 24);
    return concatBytes([ip, udpHeader(d, pseudo), d.payload]);
  }
  throw new Error(`cannot capture between "${d.src.address}" and "${d.dst.address}": not the same IP family`);
}

/** A UDP datagram read back from a captured IP packet. */
export interface ParsedDatagram extends UdpDatagram {
  /** The capture holds only part of it (snap length, or the first of several IP fragments). */
  truncated: boolean;
}

const UDP = 17;
/** IPv6 extension headers whose length byte counts 8-octet units beyond the first 8 (RFC 8200 §4). */
const IPV6_EXTENSIONS = new Set([0 /* hop-by-hop */, 43 /* routing */, 60 /* destination options */, 135 /* mobility */, 139 /* HIP */, 140 /* shim6 */]);
const IPV6_FRAGMENT = 44;
const IPV6_AH = 51;

/**
 * The UDP datagram in an IPv4 or IPv6 packet, or undefined when the packet
 * carries something else, is too short for its own headers, or is a
 * non-first IP fragment (no UDP header to read).
 */
export function parseIpUdp(p: Uint8Array): ParsedDatagram | undefined {
  const version = p.length > 0 ? p[0]! >> 4 : 0;
  if (version === 4) return parseIpv4(p);
  if (version === 6) return parseIpv6(p);
  return undefined;
}

function parseIpv4(p: Uint8Array): ParsedDatagram | undefined {
  const ihl = (p[0]! & 0x0f) * 4;
  if (ihl < 20 || p.length < ihl || p[9] !== UDP) return undefined;
  const fragment = u16(p, 6);
  if ((fragment & 0x1fff) !== 0) return undefined;
  // Total length 0 appears in captures of TCP/UDP segmentation offload: trust the capture.
  const total = u16(p, 2) || p.length;
  if (total < ihl) return undefined;
  const address = (at: number) => `${p[at]}.${p[at + 1]}.${p[at + 2]}.${p[at + 3]}`;
  return parseUdp(p.subarray(ihl, total), address(12), address(16), (fragment & 0x2000) !== 0 || total > p.length);
}

function parseIpv6(p: Uint8Array): ParsedDatagram | undefined {
  if (p.length < 40) return undefined;
  // Payload length 0 means a jumbogram (RFC 2675): its size is in an option; trust the capture.
  const end = u16(p, 4) === 0 ? p.length : 40 + u16(p, 4);
  let next = p[6]!;
  let at = 40;
  let fragmented = false;
  while (next !== UDP) {
    if (at + 8 > Math.min(end, p.length)) return undefined;
    if (IPV6_EXTENSIONS.has(next)) {
      [next, at] = [p[at]!, at + (p[at + 1]! + 1) * 8];
    } else if (next === IPV6_AH) {
      [next, at] = [p[at]!, at + (p[at + 1]! + 2) * 4];
    } else if (next === IPV6_FRAGMENT) {
      const offsetWord = u16(p, at + 2);
      if (offsetWord >> 3 !== 0) return undefined;
      fragmented = (offsetWord & 1) !== 0;
      [next, at] = [p[at]!, at + 8];
    } else {
      return undefined; // ESP, No Next Header, TCP, ICMPv6…
    }
  }
  if (at > end) return undefined;
  return parseUdp(p.subarray(at, end), ipv6Text(p.subarray(8, 24)), ipv6Text(p.subarray(24, 40)), fragmented || end > p.length);
}

function parseUdp(udp: Uint8Array, src: string, dst: string, truncated: boolean): ParsedDatagram | undefined {
  if (udp.length < 8) return undefined;
  // Length 0 only in IPv6 jumbograms (RFC 2675); below 8 otherwise is malformed.
  const length = u16(udp, 4);
  if (length !== 0 && length < 8) return undefined;
  const end = length || udp.length;
  return {
    src: { address: src, port: u16(udp, 0) },
    dst: { address: dst, port: u16(udp, 2) },
    payload: udp.subarray(8, end),
    truncated: truncated || end > udp.length,
  };
}

/** RFC 5952 text (what Wireshark and `ip addr` show), by Node's own formatter. */
function ipv6Text(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(u16(b, i).toString(16));
  return new SocketAddress({ address: groups.join(":"), family: "ipv6" }).address;
}

/** @internal Big-endian 16 bits at `at`. */
export function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}
