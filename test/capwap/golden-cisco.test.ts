import { describe, expect, it } from "vitest";
import { decodeControlMessage, encodeControlMessage, MessageType, toHex } from "../../agent/capwap/codec/index.js";
import { ciscoImageChecksum, ciscoProfile, decodeCiscoVersion, encodeCiscoVersion, type Element } from "../../agent/capwap/profiles/index.js";
import { describeGolden, type KeyFields } from "./golden-support.js";
import { BASE_MAC, builtMessages, CISCO_BLOCK, CISCO_SESSION_ID, ciscoMessages } from "./samples.js";

const profile = ciscoProfile;
const samples = [...ciscoMessages(), ...builtMessages(profile)];

const KEY_FIELDS: KeyFields = {
  WtpBoardData: (el) => ({
    "capwap.control.message_element.wtp_board_data.wtp_serial_number": "FOC2345Z0AB",
    "capwap.control.message_element.wtp_board_data.base_mac_address": BASE_MAC,
    "capwap.control.message_element.wtp_board_data.vendor": String(el.vendorId),
  }),
  // Draft-7 layout: one 16-bit encryption word; 4-byte Cisco versions (tshark shows them raw).
  WtpDescriptor: (el) => ({
    "capwap.control.message_element.wtp_descriptor.max_radios": String(el.maxRadios),
    "capwap.control.message_element.wtp_descriptor.encrypt_capabilities": String(el.encryption[0].capabilities),
    "capwap.control.message_element.wtp_descriptor.value": "11:09:04:1b",
  }),
  // tshark refuses to decode a 4-byte Session ID (the allowed expert), so check the raw value.
  SessionId: () => ({ "capwap.message_element.value": toHex(CISCO_SESSION_ID, ":") }),
  ResultCode: (el) => ({ "capwap.control.message_element.result_code": String(el.resultCode) }),
  AcDescriptor: (el) => ({
    "capwap.control.message_element.ac_descriptor.max_wtp": String(el.maxWtps),
    "capwap.control.message_element.ac_information.value": "11:0c:01:05",
  }),
  Ieee80211WtpRadioInformation: (el) => ({ "capwap.control.message_element.ieee80211_wtp_radio_info.radio_id": String(el.radioId) }),
  CiscoRadName: (el) => ({ "capwap.control.cisco.rad_name": el.name }),
  CiscoApTimeSync: (el) => ({
    "capwap.control.cisco.ap_timesync": `${new Date(el.timestamp * 1000).toLocaleString("en-US", { month: "short", day: "numeric", year: "numeric", timeZone: "UTC" })} ${new Date(el.timestamp * 1000).toISOString().slice(11, 19)}.000000000 UTC`,
    "capwap.control.cisco.ap_timesync.type": String(el.type),
  }),
  CiscoMwarAddress: (el) => ({ "capwap.control.cisco.mwar.address": el.address, "capwap.control.cisco.mwar.type": String(el.mwarType) }),
  CiscoMwarType: (el) => ({ "capwap.control.cisco.mwar.type": String(el.mwarType) }),
  CiscoBoardDataOptions: (el) => ({
    "capwap.control.cisco.board_data_options.ant_type": String(el.antennaType),
    "capwap.control.cisco.board_data_options.ap_type": String(el.apType),
    "capwap.control.cisco.board_data_options.join_priority": String(el.joinPriority),
  }),
  CiscoApGroupName: (el) => ({ "capwap.control.cisco.ap_group_name": el.name }),
  CiscoApUptime: (el) => ({ "capwap.control.cisco.ap_uptime.current": String(el.current), "capwap.control.cisco.ap_uptime.last": String(el.last) }),
  CiscoApModeAndType: (el) => ({ "capwap.control.cisco.ap_mode_and_type.mode": String(el.mode), "capwap.control.cisco.ap_mode_and_type.type": String(el.type) }),
  CiscoApStaticIp: (el) => ({ "capwap.control.cisco.ap_static_ip.addr": el.address, "capwap.control.cisco.ap_static_ip.type": String(el.static) }),
  CiscoApLedState: (el) => ({ "capwap.control.cisco.ap_led_state": String((el.ledState << 8) | el.saveFlag) }),
};

describeGolden("Cisco profile against tshark (-o capwap.draft_8_cisco:TRUE)", {
  profile,
  samples,
  prefs: { "capwap.draft_8_cisco": "TRUE" },
  // Real Cisco APs send a 4-byte Session ID and tshark 4.0 flags it whatever the preference (SPEC.md §3).
  allowedExperts: ["Session ID length 4 wrong, must be = 16"],
  keyFields: KEY_FIELDS,
  minCrossChecked: 40,
});

/**
 * tshark names but does not decode these Cisco layouts, so our bytes are
 * checked against layouts computed by hand from the research notes
 * (actube's dumps of a real AP; SPEC.md §3).
 */
describe("Cisco elements tshark does not decode: our bytes against hand-computed layouts", () => {
  const valueOf = (el: Element) => {
    const bytes = encodeControlMessage({ type: MessageType.EchoRequest, seq: 0, elements: [el] }, profile.elements);
    return toHex(bytes.subarray(8 + 4), ""); // skip control header and the element TLV header
  };
  const find = <K extends Element["kind"]>(kind: K) => samples.flatMap((s) => s.message.elements).find((e) => e.kind === kind) as Extract<Element, { kind: K }>;
  const cases: [string, Element, string][] = [
    ["AP Model (127): 30 + 30 NUL-padded", find("CiscoApModel"), "00409600007f" + Buffer.from("C9105AXI-B").toString("hex").padEnd(60, "0") + Buffer.from("17.9.4.27").toString("hex").padEnd(60, "0")],
    ["Backup Software Version (183): 4-byte version", find("CiscoBackupSoftwareVersion"), "0040960000b7" + "080a8200"],
    ["Regulatory Domain (126): band, set, slot, two codes", find("CiscoRegulatoryDomain"), "00409600007e" + "0001004200"],
    ["WTP IPv4 Address (42, draft 7)", find("WtpIpv4Address"), "c000020a"],
    ["Path MTU (LWAPP 73 inside 104)", samples[3]!.message.elements.find((e) => e.kind === "CiscoLwapp")!, "004096000068" + "00409600" + "0049" + "05cd0008" + "00000000"],
    ["Image Data, LWAPP style (24): opcode 3, checksum, block", { kind: "CiscoImageData", opcode: 3, checksum: 0xfbfd, data: Uint8Array.of(1, 2, 3) }, "03fbfd010203"],
    ["Image Data error (24): opcode 5 alone", { kind: "CiscoImageData", opcode: 5, data: new Uint8Array(0) }, "05"],
  ];
  it.each(cases)("%s", (_name, el, hex) => {
    expect(valueOf(el)).toBe(hex);
    const decoded = decodeControlMessage<Element>(encodeControlMessage({ type: 13, seq: 0, elements: [el] }, profile.elements), profile.elements);
    expect(decoded.elements).toEqual([el]);
  });

  it("Cisco Board Data (50) is 46 bytes with the MAC at offset 40", () => {
    const hex = valueOf(find("CiscoBoardData")).slice(12);
    expect(hex.length / 2).toBe(46);
    expect(hex.slice(12 * 2 - 8, 12 * 2 + 32)).toContain(Buffer.from("FOC2345Z0AB").toString("hex"));
    expect(hex.slice(80)).toBe("001122334455");
  });

  it("a 1377-byte block makes exactly a 1400-byte CAPWAP message", () => {
    const block = samples.find((s) => s.name === "image data request (block)")!.message;
    expect(8 + encodeControlMessage(block, profile.elements).length).toBe(1400);
  });

  it("block checksums follow RFC 1071", () => {
    expect(ciscoImageChecksum(Uint8Array.of(1, 2, 3))).toBe(0xfbfd);
    expect(ciscoImageChecksum(new Uint8Array(0))).toBe(0xffff);
    expect(ciscoImageChecksum(new Uint8Array(10))).toBe(0xffff);
    expect(ciscoImageChecksum(CISCO_BLOCK)).toBe(0x05b8);
  });

  it("versions are four bytes, one per dotted part", () => {
    expect(toHex(encodeCiscoVersion("17.9.4.27"))).toBe("1109041b");
    expect(decodeCiscoVersion(Uint8Array.of(0x11, 0x0c, 0x01, 0x05))).toBe("17.12.1.5");
    expect(() => encodeCiscoVersion("17.9.4")).toThrow(/four-part/);
    expect(() => encodeCiscoVersion("17.9.4.256")).toThrow(/four-part/);
  });

  it("decodes every Cisco sample back to itself (round trip)", () => {
    for (const { message } of samples) {
      expect(decodeControlMessage<Element>(encodeControlMessage(message, profile.elements), profile.elements)).toEqual(message);
    }
  });
});
