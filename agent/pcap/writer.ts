/**
 * Classic libpcap writer (microsecond timestamps, LINKTYPE_RAW), the format
 * every Wireshark version reads. Records go to a sink so a capture streams to
 * disk without holding packets in memory.
 */
import { buildIpUdpPacket, type UdpDatagram } from "./ip.js";

export const LINKTYPE_RAW = 101;

export type ByteSink = (chunk: Uint8Array) => void;

export class PcapWriter {
  constructor(private readonly sink: ByteSink) {
    const h = new DataView(new ArrayBuffer(24));
    h.setUint32(0, 0xa1b2c3d4, true);
    h.setUint16(4, 2, true);
    h.setUint16(6, 4, true);
    h.setUint32(16, 0xffff, true); // snaplen
    h.setUint32(20, LINKTYPE_RAW, true);
    sink(new Uint8Array(h.buffer));
  }

  /** Append one UDP datagram seen at wall time `timeMs`. */
  writeUdp(timeMs: number, datagram: UdpDatagram): void {
    const packet = buildIpUdpPacket(datagram);
    const rec = new DataView(new ArrayBuffer(16));
    const micros = Math.round(timeMs * 1000);
    rec.setUint32(0, Math.floor(micros / 1e6), true);
    rec.setUint32(4, micros % 1e6, true);
    rec.setUint32(8, packet.length, true);
    rec.setUint32(12, packet.length, true);
    this.sink(new Uint8Array(rec.buffer));
    this.sink(packet);
  }
}

/** A whole capture in memory (tests, small tools). */
export function pcapBytes(datagrams: readonly { timeMs: number; datagram: UdpDatagram }[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter((c) => chunks.push(c));
  for (const d of datagrams) w.writeUdp(d.timeMs, d.datagram);
  return Buffer.concat(chunks);
}
