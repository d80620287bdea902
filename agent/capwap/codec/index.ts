/**
 * The CAPWAP wire codec (RFC 5415/5416): pure functions over bytes, no I/O.
 * Vendor profiles (agent/capwap/profiles) supply the element tables.
 */
export { Reader, Writer } from "./cursor.js";
export { CapwapDecodeError, CapwapEncodeError } from "./errors.js";
export * from "./schema.js";
export { element, vendorElement, ElementTable, type ElementSpec, type ElementOf, type UnknownElement, type VendorSpecificElement } from "./element.js";
export { type CapwapHeader, controlHeader, headerLength, readHeader, writeHeader, WBID_IEEE80211, DTLS_PREAMBLE_BYTE, CAPWAP_CONTROL_PORT, CAPWAP_DATA_PORT, CAPWAP_PORTS } from "./header.js";
export {
  type BaseElement,
  type ControlMessage,
  type CapwapPacket,
  type ControlPacket,
  decodePacket,
  decodeControlMessage,
  decodeControlPacket,
  encodeControlMessage,
  encodeControlPacket,
  readControlMessage,
  writeControlMessage,
  readElements,
  writeElements,
} from "./control.js";
export { fragmentPayload, Reassembler, type Reassembled, type ReassemblyOptions } from "./fragment.js";
export { type DataPacket, encodeDataKeepAlive, decodeDataPacket } from "./data.js";
export * from "./names.js";
export * from "./rfc5415.js";
export * from "./ieee80211.js";
export { toJson, elementToJson, messageToJson, type JsonValue, type ElementJson, type MessageJson } from "./json.js";
