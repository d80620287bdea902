/** Packet captures: a pcap writer and (pcap, pcapng) readers, in one place. */
export { PcapWriter, pcapBytes, LINKTYPE_RAW, type ByteSink } from "./writer.js";
export { buildIpUdpPacket, type UdpDatagram, type UdpEndpoint } from "./ip.js";
