/** `vap capwap decode`: the CAPWAP messages of a pcap or pcapng capture as JSON lines. */
export { capwapDecodeCommand, decodeCapture, type DecodeOptions, type DecodeSummary, type DecodedLine } from "./command.js";
