/**
 * What a datagram's IP and UDP headers take out of the link MTU, by the
 * peer's address family. A datagram that fits leaves as one IP packet;
 * one byte more and IP fragments it (or, with DF set, drops it).
 */
import { isIPv4 } from "node:net";

/** Ethernet's MTU: the link MTU unless told otherwise. */
export const DEFAULT_LINK_MTU = 1500;
/** IPv4 header without options (20) + UDP (8). */
export const IPV4_UDP_OVERHEAD = 28;
/** IPv6 header without extension headers (40) + UDP (8): the worst case when the family is unknown. */
export const IPV6_UDP_OVERHEAD = 48;

/** IP + UDP header bytes toward `address`; an IPv4-mapped IPv6 address (a dual-stack socket's view of an IPv4 peer) is IPv4 on the wire. */
export function ipUdpOverhead(address: string): number {
  return isIPv4(address) || /^::ffff:(\d{1,3}\.){3}\d{1,3}$/i.test(address) ? IPV4_UDP_OVERHEAD : IPV6_UDP_OVERHEAD;
}
