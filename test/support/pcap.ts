import { writeFileSync } from "node:fs";

/** One UDP datagram as seen on the wire. */
export interface CapturedDatagram {
  src: { address: string; port: number };
  dst: { address: string; port: number };
  payload: Uint8Array;
  /** Capture time, ms since the epoch. */
  time: number;
}

function ipv4(address: string): number[] {
  const parts = address.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) throw new Error(`not an IPv4 address: ${address}`);
  return parts;
}

/** RFC 791 header checksum: ones' complement of the ones'-complement sum of 16-bit words. */
function ipChecksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * Write a classic pcap file (LINKTYPE_RAW: bare IPv4 packets) holding the
 * given UDP datagrams, so tshark can dissect traffic a test exchanged in
 * memory exactly as if it had been captured on the wire.
 */
export function writePcap(path: string, datagrams: readonly CapturedDatagram[]): void {
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0);
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeUInt32LE(65535, 16);
  global.writeUInt32LE(101, 20); // LINKTYPE_RAW
  const records = datagrams.map((d, i) => {
    const udpLen = 8 + d.payload.length;
    const packet = Buffer.alloc(20 + udpLen);
    packet.writeUInt8(0x45, 0);
    packet.writeUInt16BE(20 + udpLen, 2);
    packet.writeUInt16BE(i & 0xffff, 4);
    packet.writeUInt8(64, 8);
    packet.writeUInt8(17, 9);
    Buffer.from(ipv4(d.src.address)).copy(packet, 12);
    Buffer.from(ipv4(d.dst.address)).copy(packet, 16);
    packet.writeUInt16BE(ipChecksum(packet.subarray(0, 20)), 10);
    packet.writeUInt16BE(d.src.port, 20);
    packet.writeUInt16BE(d.dst.port, 22);
    packet.writeUInt16BE(udpLen, 24);
    // UDP checksum 0: "no checksum", legal over IPv4 (RFC 768).
    Buffer.from(d.payload).copy(packet, 28);
    const header = Buffer.alloc(16);
    header.writeUInt32LE(Math.floor(d.time / 1000), 0);
    header.writeUInt32LE(Math.floor(d.time % 1000) * 1000, 4);
    header.writeUInt32LE(packet.length, 8);
    header.writeUInt32LE(packet.length, 12);
    return Buffer.concat([header, packet]);
  });
  writeFileSync(path, Buffer.concat([global, ...records]));
}
