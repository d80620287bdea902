/**
 * Hand-built capture files and link-layer frames for the reader tests: the
 * formats and encapsulations no tool here writes on demand (big-endian pcap,
 * multi-section pcapng, VLAN tags, BSD loopback…), byte for byte as the
 * pcap-savefile(5) man page and draft-ietf-opsawg-pcapng lay them out.
 */
import type { UdpDatagram } from "../../agent/pcap/index.js";

export const AP = { address: "192.0.2.10", port: 5264 };
export const AC = { address: "192.0.2.1", port: 5246 };
export const AP6 = { address: "2001:db8::10", port: 5264 };
export const AC6 = { address: "2001:db8::1", port: 5246 };

export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

export function udp(src: typeof AP, dst: typeof AP, payload: Uint8Array | number[]): UdpDatagram {
  return { src, dst, payload: Uint8Array.from(payload) };
}

/** A buffer of `n` bytes written through a DataView (little- or big-endian). */
function fields(n: number, write: (v: DataView) => void): Uint8Array {
  const b = new Uint8Array(n);
  write(new DataView(b.buffer));
  return b;
}

export interface PcapRecord {
  seconds: number;
  fraction: number;
  data: Uint8Array;
  /** Defaults to data.length. */
  originalLength?: number;
  /** Overrides the captured length field (for corrupt files). */
  capturedLength?: number;
}

/** A classic pcap file. */
export function classicPcap(linkType: number, records: PcapRecord[], { le = true, nanos = false } = {}): Uint8Array {
  const header = fields(24, (v) => {
    v.setUint32(0, nanos ? 0xa1b23c4d : 0xa1b2c3d4, le);
    v.setUint16(4, 2, le);
    v.setUint16(6, 4, le);
    v.setUint32(16, 262144, le);
    v.setUint32(20, linkType, le);
  });
  const body = records.flatMap((r) => [
    fields(16, (v) => {
      v.setUint32(0, r.seconds, le);
      v.setUint32(4, r.fraction, le);
      v.setUint32(8, r.capturedLength ?? r.data.length, le);
      v.setUint32(12, r.originalLength ?? r.data.length, le);
    }),
    r.data,
  ]);
  return concat(header, ...body);
}

/** One pcapng block: type, length, body padded to 4, length again. */
export function block(type: number, body: Uint8Array, le = true): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const length = 12 + padded;
  return concat(
    fields(8, (v) => {
      v.setUint32(0, type, le);
      v.setUint32(4, length, le);
    }),
    body,
    new Uint8Array(padded - body.length),
    fields(4, (v) => v.setUint32(0, length, le)),
  );
}

/** pcapng option list: code, length, value padded to 4, closed by opt_endofopt. */
export function options(list: [code: number, value: Uint8Array][], le = true): Uint8Array {
  const parts = list.flatMap(([code, value]) => [
    fields(4, (v) => {
      v.setUint16(0, code, le);
      v.setUint16(2, value.length, le);
    }),
    value,
    new Uint8Array(((value.length + 3) & ~3) - value.length),
  ]);
  return list.length ? concat(...parts, new Uint8Array(4)) : new Uint8Array(0);
}

export function sectionHeader(le = true, opts: Uint8Array = new Uint8Array(0)): Uint8Array {
  const body = fields(16, (v) => {
    v.setUint32(0, 0x1a2b3c4d, le);
    v.setUint16(4, 1, le);
    v.setUint16(6, 0, le);
    v.setBigInt64(8, -1n, le); // section length unknown
  });
  return block(0x0a0d0d0a, concat(body, opts), le);
}

export function interfaceDescription(linkType: number, le = true, { snapLength = 0, tsresol, tsoffset }: { snapLength?: number; tsresol?: number; tsoffset?: bigint } = {}): Uint8Array {
  const opts: [number, Uint8Array][] = [[2, new TextEncoder().encode("eth0")]]; // if_name, to be skipped
  if (tsresol !== undefined) opts.push([9, Uint8Array.of(tsresol)]);
  if (tsoffset !== undefined) opts.push([14, fields(8, (v) => v.setBigInt64(0, tsoffset, le))]);
  const head = fields(8, (v) => {
    v.setUint16(0, linkType, le);
    v.setUint32(4, snapLength, le);
  });
  return block(1, concat(head, options(opts, le)), le);
}

export function enhancedPacket(interfaceId: number, ticks: bigint, data: Uint8Array, le = true, { capturedLength, comment }: { capturedLength?: number; comment?: string } = {}): Uint8Array {
  const head = fields(20, (v) => {
    v.setUint32(0, interfaceId, le);
    v.setUint32(4, Number(ticks >> 32n), le);
    v.setUint32(8, Number(ticks & 0xffffffffn), le);
    v.setUint32(12, capturedLength ?? data.length, le);
    v.setUint32(16, data.length, le);
  });
  const padding = new Uint8Array(((data.length + 3) & ~3) - data.length);
  return block(6, concat(head, data, padding, options(comment ? [[1, new TextEncoder().encode(comment)]] : [], le)), le);
}

/** The obsolete Packet Block (type 2): 16-bit interface id and a drops count. */
export function obsoletePacket(interfaceId: number, ticks: bigint, data: Uint8Array, le = true): Uint8Array {
  const head = fields(20, (v) => {
    v.setUint16(0, interfaceId, le);
    v.setUint16(2, 0, le);
    v.setUint32(4, Number(ticks >> 32n), le);
    v.setUint32(8, Number(ticks & 0xffffffffn), le);
    v.setUint32(12, data.length, le);
    v.setUint32(16, data.length, le);
  });
  return block(2, concat(head, data), le);
}

export function simplePacket(data: Uint8Array, le = true, originalLength = data.length): Uint8Array {
  return block(3, concat(fields(4, (v) => v.setUint32(0, originalLength, le)), data), le);
}

const MAC_A = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];
const MAC_B = [0x00, 0x66, 0x77, 0x88, 0x99, 0xaa];

function etherTypeOf(ip: Uint8Array): number {
  return ip[0]! >> 4 === 6 ? 0x86dd : 0x0800;
}

/** Ethernet II, optionally behind VLAN tags given as [TPID, TCI] pairs (outermost first). */
export function ethernet(ip: Uint8Array, tags: [number, number][] = [], etherType = etherTypeOf(ip)): Uint8Array {
  const tagBytes = tags.flatMap(([tpid, tci]) => [tpid >> 8, tpid & 0xff, tci >> 8, tci & 0xff]);
  return concat(Uint8Array.from([...MAC_A, ...MAC_B, ...tagBytes, etherType >> 8, etherType & 0xff]), ip);
}

/** Linux cooked capture v1: packet type, ARPHRD, address length, 8 address bytes, protocol. */
export function linuxSll(ip: Uint8Array): Uint8Array {
  const t = etherTypeOf(ip);
  return concat(Uint8Array.from([0, 0, 0x03, 0x04, 0, 6, ...MAC_A, 0, 0, t >> 8, t & 0xff]), ip);
}

/** Linux cooked capture v2: protocol, reserved, ifindex, ARPHRD, packet type, address length, 8 address bytes. */
export function linuxSll2(ip: Uint8Array): Uint8Array {
  const t = etherTypeOf(ip);
  return concat(Uint8Array.from([t >> 8, t & 0xff, 0, 0, 0, 0, 0, 1, 0x03, 0x04, 4, 6, ...MAC_A, 0, 0]), ip);
}

/** BSD loopback (LINKTYPE_NULL, host byte order) or OpenBSD loop (LINKTYPE_LOOP, big-endian). */
export function loopback(ip: Uint8Array, family: number, le: boolean): Uint8Array {
  return concat(fields(4, (v) => v.setUint32(0, family, le)), ip);
}
