/** Packet captures: a pcap writer and a pcap/pcapng reader, in one place. */
export { CaptureFile } from "./capture-file.js";
export { PcapWriter, pcapBytes, LINKTYPE_RAW, type ByteSink } from "./writer.js";
export { buildIpUdpPacket, type UdpDatagram } from "./ip.js";
export { readCapture, PcapFormatError, MAX_RECORD_BYTES, type CaptureRecord } from "./reader.js";
export { udpDatagramOf, LinkType, type CapturedDatagram } from "./link.js";
