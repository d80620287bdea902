/**
 * From a captured frame to the UDP datagram it carries: the link layer
 * (tcpdump LINKTYPE_* values, https://www.tcpdump.org/linktypes.html), then
 * IPv4/IPv6, then UDP. A frame carrying anything else yields undefined.
 */
import { parseIpUdp, type ParsedDatagram, u16 } from "./ip.js";
import type { CaptureRecord } from "./reader.js";

export const LinkType = {
  /** BSD loopback: 4-byte address family in the capturing host's byte order. */
  Null: 0,
  Ethernet: 1,
  /** DLT_RAW as most BSDs number it, and as OpenBSD does. */
  RawBsd: 12,
  RawOpenBsd: 14,
  Raw: 101,
  /** OpenBSD loopback: like Null, but the family is always big-endian. */
  Loop: 108,
  LinuxSll: 113,
  Ipv4: 228,
  Ipv6: 229,
  LinuxSll2: 276,
} as const;

export interface CapturedDatagram extends ParsedDatagram {
  frame: number;
  timeNs: bigint | undefined;
}

export function udpDatagramOf(record: CaptureRecord): CapturedDatagram | undefined {
  const ip = ipPacketOf(record.linkType, record.data);
  const datagram = ip && parseIpUdp(ip);
  return datagram && { frame: record.frame, timeNs: record.timeNs, ...datagram };
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
/** 802.1Q, 802.1ad (QinQ outer) and the pre-standard QinQ tag: 4 bytes each, then the next EtherType. */
const VLAN_TAGS = new Set([0x8100, 0x88a8, 0x9100]);
const AF_INET = 2;
/** AF_INET6 differs by OS: Linux, NetBSD/OpenBSD, FreeBSD, macOS. */
const AF_INET6 = new Set([10, 24, 28, 30]);

/** The IP packet inside a link-layer frame, or undefined when it carries something else. */
function ipPacketOf(linkType: number, f: Uint8Array): Uint8Array | undefined {
  switch (linkType) {
    case LinkType.Ethernet: {
      let at = 12;
      while (f.length >= at + 2 && VLAN_TAGS.has(u16(f, at))) at += 4;
      return f.length >= at + 2 ? byEtherType(u16(f, at), f.subarray(at + 2)) : undefined;
    }
    case LinkType.LinuxSll:
      return f.length >= 16 ? byEtherType(u16(f, 14), f.subarray(16)) : undefined;
    case LinkType.LinuxSll2:
      return f.length >= 20 ? byEtherType(u16(f, 0), f.subarray(20)) : undefined;
    case LinkType.Null:
      // The family is small, so whichever end byte is non-zero tells the byte order.
      return f.length >= 4 ? byFamily(f[0] || f[3]!, f.subarray(4)) : undefined;
    case LinkType.Loop:
      return f.length >= 4 ? byFamily((u16(f, 0) << 16) | u16(f, 2), f.subarray(4)) : undefined;
    case LinkType.Raw:
    case LinkType.RawBsd:
    case LinkType.RawOpenBsd:
    case LinkType.Ipv4:
    case LinkType.Ipv6:
      return f;
    default:
      return undefined;
  }
}

function byEtherType(type: number, payload: Uint8Array): Uint8Array | undefined {
  return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? payload : undefined;
}

function byFamily(family: number, payload: Uint8Array): Uint8Array | undefined {
  return family === AF_INET || AF_INET6.has(family) ? payload : undefined;
}
