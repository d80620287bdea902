import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  controlHeader,
  decodeControlMessage,
  decodePacket,
  encodeControlMessage,
  fragmentPayload,
  MessageType,
  Reassembler,
} from "../../agent/capwap/codec/index.js";
import { CISCO_VENDOR_ID, ciscoProfile, ciscoVendorElements, type Element } from "../../agent/capwap/profiles/index.js";
import { pcapBytes } from "../../agent/pcap/index.js";
import { vap } from "../support/cli.js";
import { tempDir } from "../support/temp.js";
import { AC, AP } from "./golden-support.js";
import { builtMessages, ciscoMessages } from "./samples.js";

const dir = tempDir("liberal");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const table = ciscoProfile.elements;

/** Cisco elements whose layout ends in free-length text or bytes: one byte more or less still fits. */
const FREE_LENGTH = new Set(["CiscoRadName", "CiscoLwapp", "CiscoApGroupName"]);
/** Small enough that the message goes out in several fragments, as Cisco-style APs send it. */
const FRAGMENT_SIZE = 128;
/** Control header: type 4, seq 1, Msg Element Length 2, flags 1. */
const CONTROL_HEADER = 8;

const samples = [...ciscoMessages(), ...builtMessages(ciscoProfile)].flatMap((s) => s.message.elements);
const statusRequest = builtMessages(ciscoProfile).find((s) => s.name === "built configuration status request")!.message;

/** One element's TLV bytes as the cisco profile encodes it. */
function tlvOf(el: Element): Uint8Array {
  return encodeControlMessage({ type: MessageType.ConfigurationStatusRequest, seq: 0, elements: [el] }, table).subarray(CONTROL_HEADER);
}

/** The TLV with its body (vendor id and element id included) one byte shorter or longer, the length fixed up. */
function resized(tlv: Uint8Array, delta: -1 | 1): Uint8Array {
  const body = delta < 0 ? tlv.subarray(4, tlv.length - 1) : Uint8Array.of(...tlv.subarray(4), 0x00);
  return Uint8Array.of(tlv[0]!, tlv[1]!, body.length >> 8, body.length & 0xff, ...body);
}

/** A Configuration Status Request payload (control header + elements) from raw TLVs, as another implementation might send it. */
function statusRequestBytes(tlvs: readonly Uint8Array[]): Uint8Array {
  const length = tlvs.reduce((n, t) => n + t.length, 0) + 3;
  return Uint8Array.of(0, 0, 0, MessageType.ConfigurationStatusRequest, 7, length >> 8, length & 0xff, 0, ...tlvs.flatMap((t) => [...t]));
}

/** Cisco-style: the message goes out in several fragments, reassembled on receipt. */
function throughFragments(payload: Uint8Array): Uint8Array {
  const fragments = fragmentPayload(payload, controlHeader(), FRAGMENT_SIZE, 1);
  expect(fragments.length).toBeGreaterThanOrEqual(3);
  const reassembler = new Reassembler({ timeoutMs: 1000, maxBufferedBytes: 1 << 20 });
  let whole: Uint8Array | undefined;
  for (const f of fragments) {
    const { header, payload: piece } = decodePacket(f);
    whole = reassembler.push("ap", header, piece, 0)?.payload ?? whole;
  }
  return whole!;
}

describe("a Cisco vendor element one byte shorter or longer than its layout, inside a fragmented Configuration Status Request", () => {
  const cases = ciscoVendorElements.flatMap((spec) => [-1, 1].map((delta) => ({ spec, delta: delta as -1 | 1 })));
  it.each(cases.map((c) => [c.spec.name, c.delta > 0 ? "longer" : "shorter", c] as const))("%s, one byte %s: the message decodes, that element raw with a note", (_name, _how, { spec, delta }) => {
    const sample = samples.find((e) => e.kind === spec.kind);
    expect(sample, `a sample ${spec.kind}`).toBeDefined();
    const odd = resized(tlvOf(sample!), delta);
    const others = statusRequest.elements.filter((e) => e.kind !== spec.kind);
    const at = Math.floor(others.length / 2);
    const tlvs = others.map(tlvOf);
    tlvs.splice(at, 0, odd);
    const payload = statusRequestBytes(tlvs);

    const message = decodeControlMessage<Element>(throughFragments(payload), table);
    expect(message.type).toBe(MessageType.ConfigurationStatusRequest);
    expect(message.elements.filter((_, i) => i !== at)).toEqual(others.map((e) => decodeControlMessage<Element>(statusRequestBytes([tlvOf(e)]), table).elements[0]));
    const got = message.elements[at]!;
    if (FREE_LENGTH.has(spec.kind)) {
      expect(got.kind).toBe(spec.kind);
    } else {
      expect(got).toEqual({ kind: "VendorSpecific", vendorId: CISCO_VENDOR_ID, elementId: spec.vendorElementId, data: odd.subarray(10), note: expect.stringMatching(new RegExp(`^${spec.name}: .+ at byte \\d+$`)) });
    }
    // Raw or not, the message re-encodes to the bytes that came in.
    expect(Buffer.from(encodeControlMessage(message, table))).toEqual(Buffer.from(payload));
  });
});

describe("vap capwap decode prints such an element raw, with its note, and the rest of the message decoded", () => {
  it("a fragmented Configuration Status Request with a short AP LED State", async () => {
    const led = tlvOf({ kind: "CiscoApLedState", ledState: 1, saveFlag: 0 });
    const tlvs = statusRequest.elements.filter((e) => e.kind !== "CiscoApLedState").map(tlvOf);
    const payload = statusRequestBytes([...tlvs, resized(led, -1)]);
    const fragments = fragmentPayload(payload, controlHeader(), FRAGMENT_SIZE, 9);
    const file = join(dir, "short-led.pcap");
    writeFileSync(file, pcapBytes(fragments.map((p, i) => ({ timeMs: 1_706_650_895_000 + i, datagram: { src: AP, dst: AC, payload: p } }))));

    const { code, out, err } = await vap("capwap", "decode", file);
    expect(code).toBe(0);
    const [line, ...more] = out.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, any>);
    expect(more).toEqual([]);
    expect(line).not.toHaveProperty("error");
    expect(line).toMatchObject({ profile: "cisco", reassembled: true, typeName: "Configuration Status Request" });
    expect(line!.elements).toHaveLength(tlvs.length + 1);
    expect(line!.elements.slice(0, -1).every((e: Record<string, unknown>) => e.kind !== undefined && e.note === undefined)).toBe(true);
    const ledAt = 8 + tlvs.reduce((n, t) => n + t.length, 0) + 10;
    expect(line!.elements.at(-1)).toEqual({
      type: 37,
      name: "Vendor Specific Payload",
      vendorId: CISCO_VENDOR_ID,
      elementId: 125,
      hex: "01",
      note: `Cisco AP LED State: u8 needs 1 byte(s), 0 left at byte ${ledAt + 1}`,
    });
    expect(err).toBe(`vap capwap decode: ${fragments.length} packets, ${fragments.length} CAPWAP, 0 skipped (not CAPWAP), 0 not decodable\n`);
  });
});
