/**
 * Cisco's CAPWAP encodings: vendor elements (Vendor Specific Payload, vendor
 * id 4232704 = 0x00409600, the Airespace prefix) and the standard elements
 * Cisco lays out differently. Every Cisco byte layout lives here.
 *
 * Marks: [obs] seen in real Cisco AP/WLC output (via actube's dumps of an
 * AIR-LAP1142N and Wireshark's Cisco dissector), [inf] our inference.
 * Research notes: docs in the repository README point to SPEC.md §3.
 */
import {
  bytes,
  CapwapEncodeError,
  descriptorSubElement,
  element,
  ipv4,
  list,
  mac48,
  type ObjectCodec,
  optional,
  paddedString,
  restBytes,
  type Shape,
  u16,
  u32,
  u8,
  utf8,
  vendorElement,
} from "../../codec/index.js";
import { ciscoVersion } from "./version.js";

export const CISCO_VENDOR_ID = 4232704;

const cisco = <K extends string, S extends Shape>(id: number, kind: K, name: string, shape: S) => vendorElement(CISCO_VENDOR_ID, id, kind, name, shape);

/** MWAR Address (2): type 0 normal / 1 master, the controller's IPv4, 2 unknown bytes [obs]. */
export const CiscoMwarAddress = cisco(2, "CiscoMwarAddress", "Cisco MWAR Address", { mwarType: u8, address: ipv4, unknown: u16 });
/** RAD Name (5): the AP name, in Discovery and Join Requests [obs]. */
export const CiscoRadName = cisco(5, "CiscoRadName", "Cisco RAD Name", { name: utf8 });
/** Cisco WTP Board Data (50): 46 bytes [obs, 8 bytes of unknown meaning]. */
export const CiscoBoardData = cisco(50, "CiscoBoardData", "Cisco WTP Board Data", {
  cardId: u16,
  cardRevision: u16,
  modelLo: u32,
  modelHi: u32,
  serial: paddedString(16),
  unknown: bytes(8),
  antennaType: u8,
  flexConnect: u8,
  apType: u8,
  failoverPriority: u8,
  ethernetMac: mac48,
});
/** AP Mode and Type (54): mode 0 local, 1 monitor, 2 FlexConnect … [obs]. */
export const CiscoApModeAndType = cisco(54, "CiscoApModeAndType", "Cisco AP Mode and Type", { mode: u8, type: u8 });
/** AP Static IP Address (83): 17 bytes [obs]. */
export const CiscoApStaticIp = cisco(83, "CiscoApStaticIp", "Cisco AP Static IP", {
  address: ipv4,
  netmask: ipv4,
  gateway: ipv4,
  static: u8,
  reserved: bytes(4),
});
/**
 * SPAM Vendor Specific (104): one LWAPP element tunnelled per CAPWAP element —
 * LWAPP vendor id, LWAPP element id, value; no inner length [obs].
 */
export const CiscoLwapp = cisco(104, "CiscoLwapp", "Cisco SPAM Vendor Specific (LWAPP)", { lwappVendorId: u32, lwappElementId: u16, data: restBytes });
/** AP Uptime (108): current and last uptime, seconds [obs]. */
export const CiscoApUptime = cisco(108, "CiscoApUptime", "Cisco AP Uptime", { current: u32, last: u32 });
/** AP Group Name (123) [obs]. */
export const CiscoApGroupName = cisco(123, "CiscoApGroupName", "Cisco AP Group Name", { name: utf8 });
/** AP LED State Config (125): the ≥ 7.3 two-byte form tshark expects [obs]. */
export const CiscoApLedState = cisco(125, "CiscoApLedState", "Cisco AP LED State", { ledState: u8, saveFlag: u8 });
/** AP Regulatory Domain (126), one per radio slot, the 5-byte form of newer releases [obs]. */
export const CiscoRegulatoryDomain = cisco(126, "CiscoRegulatoryDomain", "Cisco AP Regulatory Domain", { bandId: u8, set: u8, slot: u8, code0: u8, code1: u8 });
/** AP Model (127): 30-byte model + 30-byte image string, NUL-padded [obs]. */
export const CiscoApModel = cisco(127, "CiscoApModel", "Cisco AP Model", { model: paddedString(30), image: paddedString(30) });
/** AP MinIOS Version (149): 4-byte version [obs]. */
export const CiscoMinIosVersion = cisco(149, "CiscoMinIosVersion", "Cisco AP MinIOS Version", { version: ciscoVersion });
/** AP Time Sync (151): unix time + type; DTLS does not proceed without it in Discovery Response [obs]. */
export const CiscoApTimeSync = cisco(151, "CiscoApTimeSync", "Cisco AP Time Sync", { timestamp: u32, type: u8 });
/** AP Backup Software Version (183): 4-byte version, 0.0.0.0 when none [obs]. */
export const CiscoBackupSoftwareVersion = cisco(183, "CiscoBackupSoftwareVersion", "Cisco AP Backup Software Version", { version: ciscoVersion });
/** Board Data Options (207): antenna type, FlexConnect, AP type, join priority [obs]. */
export const CiscoBoardDataOptions = cisco(207, "CiscoBoardDataOptions", "Cisco Board Data Options", { antennaType: u8, flexConnect: u8, apType: u8, joinPriority: u8 });
/** MWAR Type (208) [obs]. */
export const CiscoMwarType = cisco(208, "CiscoMwarType", "Cisco MWAR Type", { mwarType: u8 });

/** LWAPP element ids carried in CiscoLwapp (104). */
export const LwappElementId = { PathMtu: 73, MwarHashValue: 134 } as const;

export const ciscoVendorElements = [
  CiscoMwarAddress,
  CiscoRadName,
  CiscoBoardData,
  CiscoApModeAndType,
  CiscoApStaticIp,
  CiscoLwapp,
  CiscoApUptime,
  CiscoApGroupName,
  CiscoApLedState,
  CiscoRegulatoryDomain,
  CiscoApModel,
  CiscoMinIosVersion,
  CiscoApTimeSync,
  CiscoBackupSoftwareVersion,
  CiscoBoardDataOptions,
  CiscoMwarType,
] as const;

/**
 * Draft-7 WTP Descriptor (39): max radios, radios in use, ONE 16-bit
 * encryption-capabilities word (no count, no WBID), then the RFC sub-elements
 * [obs]. Same message-object shape as RFC 5415's, with a single 802.11
 * encryption entry.
 */
const draft7WtpDescriptor: ObjectCodec<{
  maxRadios: number;
  radiosInUse: number;
  encryption: { wbid: number; capabilities: number }[];
  descriptors: { vendorId: number; type: number; data: Uint8Array }[];
}> = (() => {
  const descriptors = list(descriptorSubElement);
  const readInto = (r: Parameters<ObjectCodec<object>["readInto"]>[0], o: Record<string, unknown>) => {
    o.maxRadios = r.u8("max radios");
    o.radiosInUse = r.u8("radios in use");
    o.encryption = [{ wbid: 1, capabilities: r.u16("encryption capabilities") }];
    o.descriptors = descriptors.read(r);
  };
  return {
    readInto,
    read(r) {
      const o: Record<string, unknown> = {};
      readInto(r, o);
      return o as never;
    },
    write(w, v) {
      const [only, ...more] = v.encryption;
      if (!only || more.length > 0 || only.wbid !== 1) throw new CapwapEncodeError("the Cisco WTP Descriptor carries exactly one IEEE 802.11 (WBID 1) encryption entry");
      w.u8(v.maxRadios);
      w.u8(v.radiosInUse);
      w.u16(only.capabilities);
      descriptors.write(w, v.descriptors);
    },
  };
})();

/** Standard element types whose Cisco layout differs from RFC 5415's. */
export const ciscoLayoutOverrides = [
  element(39, "WtpDescriptor", "WTP Descriptor", draft7WtpDescriptor),
  /** Cisco APs send a 4-byte Session ID [obs]; accept 4 or the RFC's 16. */
  element(35, "SessionId", "Session ID", {
    sessionId: {
      read: (r) => (r.remaining === 4 || r.remaining === 16 ? r.rest() : r.fail(`Session ID of ${r.remaining} bytes (Cisco sends 4, RFC 5415 16)`)),
      write: (w, v: Uint8Array) => {
        if (!(v instanceof Uint8Array) || (v.length !== 4 && v.length !== 16)) throw new CapwapEncodeError("a Cisco Session ID is 4 or 16 bytes");
        w.bytes(v);
      },
    },
  }),
  /** Draft-7 WTP IPv4 IP Address (42), which Cisco's Join Request carries instead of 30 [obs]. */
  element(42, "WtpIpv4Address", "WTP IPv4 Address", { address: ipv4 }),
  /**
   * LWAPP-style Image Data (24): opcode 3 (data), the RFC 1071 checksum of the
   * block, the block; opcode 5 (error) alone [obs: actube, 1377-byte blocks
   * make exactly 1400-byte CAPWAP messages].
   */
  element(24, "CiscoImageData", "Image Data (LWAPP)", { opcode: u8, checksum: optional(u16), data: restBytes }),
] as const;

/** LWAPP Image Data opcodes. */
export const CiscoImageOpcode = { Data: 3, Error: 5 } as const;

/** RFC 1071 Internet checksum over a block: Cisco's per-block image checksum [obs]. */
export function ciscoImageChecksum(block: Uint8Array): number {
  let sum = 0;
  const even = block.length & ~1;
  for (let i = 0; i < even; i += 2) sum += (block[i]! << 8) | block[i + 1]!;
  if (block.length & 1) sum += block[even]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** LWAPP Path MTU (73) value: max MTU, then the value's own length and zero padding [obs]. */
export function lwappPathMtu(maxMtu: number, paddedLength: number): Uint8Array {
  const length = Math.max(4, paddedLength);
  const out = new Uint8Array(length);
  out[0] = maxMtu >> 8;
  out[1] = maxMtu & 0xff;
  out[2] = length >> 8;
  out[3] = length & 0xff;
  return out;
}
