import { describe, expect, it } from "vitest";
import { decodeControlMessage, decodePacket, Reader, readControlMessage, toHex } from "../../agent/capwap/codec/index.js";
import { rfc5415Profile, type Element } from "../../agent/capwap/profiles/index.js";
import { captureOf, crossCheckFields, fieldValues, problems, tsharkElements, tsharkJson } from "./golden-support.js";
import { BASE_MAC, rfc5415Messages, SESSION_ID } from "./samples.js";

const samples = rfc5415Messages();

/** Key fields the issue names, spelled out so a silent mismatch cannot hide. */
const KEY_FIELDS: Partial<Record<Element["kind"], (el: any) => Record<string, string>>> = {
  WtpBoardData: (el) => ({
    "capwap.control.message_element.wtp_board_data.vendor": String(el.vendorId),
    "capwap.control.message_element.wtp_board_data.wtp_model_number": "C9120AXI-B",
    "capwap.control.message_element.wtp_board_data.wtp_serial_number": "FOC2345Z0AB",
    "capwap.control.message_element.wtp_board_data.base_mac_address": BASE_MAC,
  }),
  SessionId: () => ({ "capwap.control.message_element.session_id": toHex(SESSION_ID, ":") }),
  ResultCode: (el) => ({ "capwap.control.message_element.result_code": String(el.resultCode) }),
  AcDescriptor: (el) => ({
    "capwap.control.message_element.ac_descriptor.stations": String(el.stations),
    "capwap.control.message_element.ac_descriptor.limit": String(el.limit),
    "capwap.control.message_element.ac_descriptor.active_wtp": String(el.activeWtps),
    "capwap.control.message_element.ac_descriptor.max_wtp": String(el.maxWtps),
  }),
  Ieee80211WtpRadioInformation: (el) => ({
    "capwap.control.message_element.ieee80211_wtp_radio_info.radio_id": String(el.radioId),
    "capwap.control.message_element.ieee80211_wtp_info_radio.radio_type_n": el.radioType & 8 ? "1" : "0",
    "capwap.control.message_element.ieee80211_wtp_info_radio.radio_type_a": el.radioType & 2 ? "1" : "0",
  }),
  WtpDescriptor: (el) => ({
    "capwap.control.message_element.wtp_descriptor.max_radios": String(el.maxRadios),
    "capwap.control.message_element.wtp_descriptor.active_software_version": "17.9.4.27",
  }),
  AcName: (el) => ({ "capwap.control.message_element.ac_name": el.name }),
  WtpName: (el) => ({ "capwap.control.message_element.wtp_name": el.name }),
  CapwapControlIpv4Address: (el) => ({ "capwap.control.message_element.message_element.capwap_control_ipv4": el.address }),
};

describe("RFC 5415 profile against tshark", () => {
  // One capture for all samples (tshark starts once), fragmented at 512 bytes so the
  // larger messages go out in several fragments that tshark must reassemble.
  const { pcap, packetsPerSample } = captureOf(samples, rfc5415Profile, 512);
  const packets = tsharkJson(pcap);
  // With reassembly on, the message is decoded in the last fragment of each sample.
  const lastPacketOf: number[] = [];
  packetsPerSample.reduce((at, n) => (lastPacketOf.push(at + n - 1), at + n), 0);

  it("covers every RFC 5415 element 1–53 and RFC 5416 element 1024–1048 that has a layout", () => {
    const seen = new Set<string>(samples.flatMap((s) => s.message.elements.map((e) => e.kind)));
    const missing = rfc5415Profile.elements
      .specs()
      .filter((spec) => spec.vendorId === undefined && !seen.has(spec.kind))
      .map((spec) => spec.name);
    expect(missing).toEqual([]);
  });

  for (const [i, sample] of samples.entries()) {
    it(`${sample.name}: tshark names the same message and elements with no error`, () => {
      const packet = packets[lastPacketOf[i]!]!;
      expect(problems(packet)).toEqual([]);
      expect(fieldValues(packet.layers, "capwap.control.header.message_type")).toEqual([String(sample.message.type)]);
      expect(fieldValues(packet.layers, "capwap.control.header.sequence_number")).toEqual([String(sample.message.seq)]);
      const theirs = tsharkElements(packet);
      expect(theirs.map((e) => e["capwap.message_element.type"])).toEqual(sample.message.elements.map((e) => String(elementType(e))));
      for (const [j, el] of sample.message.elements.entries()) {
        const key = KEY_FIELDS[el.kind]?.(el) ?? {};
        for (const [field, value] of Object.entries(key)) {
          expect(fieldValues(theirs[j], field), `${sample.name} ${el.kind} ${field}`).toContain(value);
        }
        crossCheckFields(el, theirs[j]!);
      }
    });
  }

  it("cross-checks a substantial number of decoded fields against tshark", () => {
    let checked = 0;
    for (const [i, sample] of samples.entries()) {
      const theirs = tsharkElements(packets[lastPacketOf[i]!]!);
      sample.message.elements.forEach((el, j) => (checked += crossCheckFields(el, theirs[j]!)));
    }
    expect(checked).toBeGreaterThan(150);
  });

  it("fragments the large messages, and tshark reassembles them", () => {
    expect(Math.max(...packetsPerSample)).toBeGreaterThan(1);
  });
});

function elementType(el: Element): number {
  if (el.kind === "Unknown") return el.type;
  if (el.kind === "VendorSpecific") return 37;
  return rfc5415Profile.elements.byKind(el.kind)!.type;
}

describe("image elements 24–27 (named but not decoded by tshark 4.0): checked against RFC 5415 layouts by hand", () => {
  const decodeOne = (hex: string) => decodeControlMessage<Element>(Uint8Array.from(Buffer.from(hex.replace(/\s/g, ""), "hex")), rfc5415Profile.elements).elements;

  it("Image Data (24): Data Type byte then the data (§4.6.26)", () => {
    // type 15, seq 7, length 3+4+3=10, flags 0; element 24 len 3: data type 2 (EOF), data 0xAB 0xCD
    expect(decodeOne("0000000f 07 000a 00  0018 0003 02 abcd")).toEqual([{ kind: "ImageData", dataType: 2, data: Uint8Array.of(0xab, 0xcd) }]);
  });

  it("Image Identifier (25): vendor id then the name (§4.6.27)", () => {
    // vendor 4232704 = 0x00409600, "ap1g8"
    expect(decodeOne("0000000f 01 0010 00  0019 0009 00409600 6170316738")).toEqual([{ kind: "ImageIdentifier", vendorId: 4232704, identifier: "ap1g8" }]);
  });

  it("Image Information (26): file size then a 16-byte hash (§4.6.28)", () => {
    // size 70512640 = 0x0433F000
    const els = decodeOne("00000010 01 001b 00  001a 0014 0433f000 d41d8cd98f00b204e9800998ecf8427e");
    expect(els).toEqual([{ kind: "ImageInformation", fileSize: 70_512_640, hash: Uint8Array.from(Buffer.from("d41d8cd98f00b204e9800998ecf8427e", "hex")) }]);
  });

  it("Initiate Download (27): no value (§4.6.29)", () => {
    expect(decodeOne("0000000f 01 0007 00  001b 0000")).toEqual([{ kind: "InitiateDownload" }]);
  });
});

// Keep the Reader-level entry point honest too: same result as the convenience wrapper.
it("readControlMessage over a whole packet equals decodeControlMessage of its payload", () => {
  const { pcap } = captureOf([samples[0]!], rfc5415Profile, Infinity);
  const datagram = pcap.subarray(24 + 16 + 28);
  const packet = decodePacket(datagram);
  const viaReader = readControlMessage(new Reader(datagram, packet.payloadOffset), rfc5415Profile.elements);
  expect(viaReader).toEqual(decodeControlMessage(packet.payload, rfc5415Profile.elements, packet.payloadOffset));
});
