import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CapwapDecodeError,
  CapwapEncodeError,
  controlHeader,
  decodeControlMessage,
  decodeControlPacket,
  decodeDataPacket,
  decodePacket,
  encodeControlMessage,
  encodeControlPacket,
  encodeDataKeepAlive,
  fragmentPayload,
  MessageType,
  Reader,
  readHeader,
  Writer,
  writeHeader,
} from "../../agent/capwap/codec/index.js";
import { profiles, rfc5415Profile, type Element } from "../../agent/capwap/profiles/index.js";
import { rfc5415Messages, SESSION_ID } from "./samples.js";

const table = rfc5415Profile.elements;
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ""), "hex"));

describe("round trip", () => {
  for (const { name, message } of rfc5415Messages()) {
    it(`decode(encode(m)) equals m: ${name}`, () => {
      const packet = encodeControlPacket(message, table);
      const { header, payload, payloadOffset } = decodePacket(packet);
      expect(header).toEqual(controlHeader());
      expect(decodeControlMessage<Element>(payload, table, payloadOffset)).toEqual(message);
      expect(decodeControlPacket<Element>(packet, table)).toEqual({ header: controlHeader(), message, payloadOffset: 8 });
    });
  }

  it("decodeControlPacket leaves a fragment's message to reassembly: header and where its bytes start", () => {
    const message = rfc5415Messages().find((m) => m.name === "configuration status request")!.message;
    const fragments = fragmentPayload(encodeControlMessage(message, table), controlHeader(), 96, 5);
    expect(fragments.length).toBeGreaterThan(1);
    for (const f of fragments) {
      const decoded = decodeControlPacket(f, table);
      expect(decoded.message).toBeUndefined();
      expect(decoded.header).toEqual(decodePacket(f).header);
      expect(decoded.header.f).toBe(true);
      expect(decoded.payloadOffset).toBe(8);
    }
  });

  it("encode(decode(b)) equals b, unknown elements and vendor payloads included", () => {
    // Echo Request (13) seq 9 carrying an unknown element 999 and a Vendor Specific
    // Payload of an unknown vendor, plus a control-header flags byte of 0x80.
    const bytes = hex(`
      0010 0200 0000 0000
      0000000d 09 0018 80
      03e7 0003 aabbcc
      0025 000a 00001234 0007 01020304`);
    const { payload, payloadOffset } = decodePacket(bytes);
    const message = decodeControlMessage<Element>(payload, table, payloadOffset);
    expect(message).toEqual({
      type: MessageType.EchoRequest,
      seq: 9,
      flags: 0x80,
      elements: [
        { kind: "Unknown", type: 999, value: hex("aabbcc") },
        { kind: "VendorSpecific", vendorId: 0x1234, elementId: 7, data: hex("01020304") },
      ],
    });
    expect(Buffer.from(encodeControlPacket(message, table))).toEqual(Buffer.from(bytes));
  });

  it("keeps the optional radio MAC and wireless information header fields", () => {
    const header = controlHeader({ rid: 1, t: true, radioMac: hex("001122334455"), wirelessInfo: hex("c80a0036") });
    const w = new Writer();
    writeHeader(w, header);
    const bytes = w.finish();
    // 8 fixed + (1+6 → 8) + (1+4 → 8) = 24 bytes: HLEN 6
    expect(bytes.length).toBe(24);
    expect((bytes[1]! >> 3) & 0x1f).toBe(6);
    expect(readHeader(new Reader(bytes))).toEqual(header);
  });

  it("encodes and decodes the data channel keep-alive (RFC 5415 §4.4.1)", () => {
    const elements: Element[] = [{ kind: "SessionId", sessionId: SESSION_ID }];
    const bytes = encodeDataKeepAlive(elements, table);
    // header 8 + length 2 + element 4+16
    expect(bytes.length).toBe(30);
    expect(bytes[3]! & 0x08).toBe(0x08); // K bit
    // §4.4.1: the length counts every byte after the CAPWAP header, itself included: 2 + 4 + 16.
    expect([bytes[8], bytes[9]]).toEqual([0x00, 22]);
    expect(decodeDataPacket(bytes, table)).toEqual({ kind: "keepalive", header: controlHeader({ k: true }), elements });
  });

  it("passes tunnelled data frames through untouched", () => {
    const frame = hex("ffffffffffff001122334455 0800 45");
    const w = new Writer();
    writeHeader(w, controlHeader({ t: false }));
    w.bytes(frame);
    expect(decodeDataPacket(w.finish(), table)).toEqual({ kind: "frame", header: controlHeader(), frame });
  });

  it("Cisco and RFC profiles agree on every standard element both lay out the same way", () => {
    for (const { message } of rfc5415Messages()) {
      const sameLayout = message.elements.filter((e) => e.kind !== "WtpDescriptor" && e.kind !== "SessionId" && e.kind !== "ImageData");
      const m = { ...message, elements: sameLayout };
      expect(Buffer.from(encodeControlMessage(m, profiles.cisco.elements))).toEqual(Buffer.from(encodeControlMessage(m, table)));
    }
  });
});

describe("bad framing: a typed error naming message, element and offset", () => {
  const cases: { name: string; bytes: string; reason: RegExp; offset: number; messageType?: number; elementType?: number }[] = [
    { name: "empty datagram", bytes: "", reason: /preamble needs 1 byte/, offset: 0 },
    { name: "wrong CAPWAP version", bytes: "10100200 00000000", reason: /unsupported CAPWAP version 1/, offset: 0 },
    { name: "DTLS preamble where a header is expected", bytes: "01000000", reason: /DTLS-encrypted/, offset: 0 },
    { name: "HLEN below the fixed header", bytes: "00080200 00000000", reason: /HLEN 1 is shorter/, offset: 0 },
    { name: "HLEN beyond the packet", bytes: "00180200 00000000", reason: /HLEN says 12 header bytes, packet has 8/, offset: 0 },
    { name: "truncated control header", bytes: "00100200 00000000 00000001 00", reason: /message element length needs 2/, offset: 13, messageType: 1 },
    { name: "Msg Element Length too long", bytes: "00100200 00000000 00000001 00 0010 00", reason: /Msg Element Length 16 does not match the 3 bytes/, offset: 13, messageType: 1 },
    { name: "Msg Element Length too short", bytes: "00100200 00000000 0000000d 00 0003 00 0021 0004 00000000", reason: /Msg Element Length 3 does not match the 11 bytes/, offset: 13, messageType: 13 },
    { name: "Msg Element Length below 3", bytes: "00100200 00000000 0000000d 00 0002 00", reason: /below its minimum of 3/, offset: 13, messageType: 13 },
    { name: "element longer than the message", bytes: "00100200 00000000 0000000d 00 0007 00 0021 0008", reason: /element length 8 exceeds the 0 bytes left/, offset: 18, messageType: 13, elementType: 33 },
    { name: "truncated element header", bytes: "00100200 00000000 0000000d 00 0005 00 0021", reason: /element length needs 2/, offset: 18, messageType: 13 },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const bytes = hex(c.bytes);
      let error: unknown;
      try {
        const { payload, payloadOffset } = decodePacket(bytes);
        decodeControlMessage(payload, table, payloadOffset);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(CapwapDecodeError);
      const e = error as CapwapDecodeError;
      expect(e.code).toBe("CAPWAP_DECODE");
      expect(e.reason).toMatch(c.reason);
      expect(e.offset).toBe(c.offset);
      expect(e.messageType).toBe(c.messageType);
      expect(e.elementType).toBe(c.elementType);
      expect(e.message).not.toContain("\n");
    });
  }

  it("decodeControlPacket (one Reader over the datagram) fails the same way, offsets included", () => {
    for (const c of cases) {
      let error: unknown;
      try {
        decodeControlPacket(hex(c.bytes), table);
      } catch (err) {
        error = err;
      }
      expect(error, c.name).toBeInstanceOf(CapwapDecodeError);
      const e = error as CapwapDecodeError;
      expect({ reason: e.reason, offset: e.offset, messageType: e.messageType, elementType: e.elementType }, c.name).toEqual({
        reason: expect.stringMatching(c.reason),
        offset: c.offset,
        messageType: c.messageType,
        elementType: c.elementType,
      });
    }
  });

  it("names the message and element in the one-line message", () => {
    try {
      const { payload, payloadOffset } = decodePacket(hex("00100200 00000000 0000000d 00 0007 00 0021 0008"));
      decodeControlMessage(payload, table, payloadOffset);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toBe("CAPWAP decode: element length 8 exceeds the 0 bytes left at byte 18 in Echo Request(13) element Result Code(33)");
    }
  });
});

describe("an element body that misfits its layout: kept raw with a note naming layout, reason and offset; the message decodes", () => {
  // Each was a message-failing CapwapDecodeError before; the note keeps that error's reason and offset.
  const cases: { name: string; bytes: string; reason: RegExp; offset: number; elementType: number }[] = [
    { name: "Result Code too short", bytes: "00100200 00000000 0000000e 00 0009 00 0021 0002 0000", reason: /^Result Code: u32 needs 4 byte\(s\), 2 left/, offset: 20, elementType: 33 },
    { name: "Result Code too long", bytes: "00100200 00000000 0000000e 00 000c 00 0021 0005 00000000 00", reason: /^Result Code: 1 unexpected trailing byte/, offset: 24, elementType: 33 },
    { name: "Session ID of 4 bytes in the RFC profile", bytes: "00100200 00000000 00000003 00 000b 00 0023 0004 01020304", reason: /^Session ID: 16-byte field needs 16/, offset: 20, elementType: 35 },
    { name: "board data value overruns", bytes: "00100200 00000000 00000001 00 0011 00 0026 000a 00409600 0000 0010 4142", reason: /^WTP Board Data: board data value needs 16 byte\(s\), 2 left/, offset: 28, elementType: 38 },
    { name: "WTP Descriptor encryption count beyond data", bytes: "00100200 00000000 00000001 00 000a 00 0027 0003 0202ff", reason: /^WTP Descriptor: .*needs 1 byte/, offset: 23, elementType: 39 },
    { name: "invalid UTF-8 in AC Name", bytes: "00100200 00000000 00000002 00 0009 00 0004 0002 c328", reason: /^AC Name: invalid UTF-8/, offset: 20, elementType: 4 },
    { name: "invalid UTF-8 after valid non-ASCII: the bad byte, not the first non-ASCII one", bytes: "00100200 00000000 00000002 00 000c 00 0004 0005 41c3a9ff42", reason: /^AC Name: invalid UTF-8/, offset: 23, elementType: 4 },
    { name: "UTF-8 sequence cut short by the element's end", bytes: "00100200 00000000 00000002 00 000a 00 0004 0003 41e282", reason: /^AC Name: invalid UTF-8/, offset: 21, elementType: 4 },
    { name: "vendor payload without its element id", bytes: "00100200 00000000 0000000d 00 000c 00 0025 0005 00409600 00", reason: /^Vendor Specific Payload: vendor element id needs 2/, offset: 24, elementType: 37 },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const bytes = hex(c.bytes);
      const { payload, payloadOffset } = decodePacket(bytes);
      const message = decodeControlMessage<Element>(payload, table, payloadOffset);
      expect(message.elements).toHaveLength(1);
      const [raw] = message.elements;
      expect(raw).toMatchObject({ kind: "Unknown", type: c.elementType, value: bytes.subarray(20) });
      const note = (raw as { note?: string }).note;
      expect(note).toMatch(c.reason);
      expect(note).toMatch(new RegExp(` at byte ${c.offset}$`));
      // One Reader over the datagram reads it the same way.
      expect(decodeControlPacket<Element>(bytes, table).message).toEqual(message);
      // A raw element re-encodes to the bytes it came from.
      expect(Buffer.from(encodeControlPacket(message, table))).toEqual(Buffer.from(bytes));
    });
  }

  it("the note is one line naming layout, reason and byte", () => {
    const { elements } = decodeControlPacket<Element>(hex("00100200 00000000 0000000e 00 0009 00 0021 0002 0000"), table).message!;
    expect(elements).toEqual([{ kind: "Unknown", type: 33, value: hex("0000"), note: "Result Code: u32 needs 4 byte(s), 2 left at byte 20" }]);
  });

  it("points at the invalid byte of a NUL-padded fixed field (Cisco AP Model), not past the padding", () => {
    const cisco = profiles.cisco.elements;
    const model = "C9120AXI-é";
    const elements: Element[] = [{ kind: "CiscoApModel", model, image: "17.9.4.27" }];
    const packet = encodeControlPacket({ type: MessageType.ConfigurationStatusRequest, seq: 1, elements }, cisco);
    const at = Buffer.from(packet).indexOf("C9120AXI-");
    for (const [bad, offset] of [
      [at + 3, at + 3], // an ASCII byte replaced: the first non-ASCII byte is the bad one
      [at + 11, at + 11], // after the valid "é" (at+9, at+10)
    ] as const) {
      const mutated = Uint8Array.from(packet);
      mutated[bad] = 0xff;
      const { payload, payloadOffset } = decodePacket(mutated);
      const [raw] = decodeControlMessage<Element>(payload, cisco, payloadOffset).elements;
      expect(raw).toMatchObject({ kind: "VendorSpecific", vendorId: 4232704, elementId: 127 });
      expect((raw as { note?: string }).note).toBe(`Cisco AP Model: invalid UTF-8 in string at byte ${offset}`);
    }
  });
});

describe("encoding invalid message objects is a caller error", () => {
  const encode = (elements: unknown[]) => () => encodeControlMessage({ type: MessageType.JoinRequest, seq: 0, elements: elements as Element[] }, table);
  it.each([
    ["a value out of range", [{ kind: "ResultCode", resultCode: -1 }], /Result Code: resultCode: value -1 does not fit in 32 bits/],
    ["a missing field", [{ kind: "CapwapTimers", discovery: 5 }], /CAPWAP Timers: echoRequest: value undefined does not fit in 8 bits/],
    ["a bad IPv4 address", [{ kind: "CapwapLocalIpv4Address", address: "10.0.0.256" }], /is not an IPv4 address/],
    ["a Session ID of the wrong size", [{ kind: "SessionId", sessionId: new Uint8Array(4) }], /expected 16 bytes, got 4/],
    ["an unknown kind", [{ kind: "NoSuchElement" }], /"NoSuchElement" is not known/],
  ])("%s", (_name, elements, message) => {
    expect(encode(elements)).toThrow(CapwapEncodeError);
    expect(encode(elements)).toThrow(message);
  });
});

it("the codec imports nothing from Node (it must run anywhere, pure over bytes)", () => {
  const dir = join(import.meta.dirname, "../../agent/capwap/codec");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
    const source = readFileSync(join(dir, file), "utf8");
    expect(source, file).not.toMatch(/from\s+["']node:|require\(|from\s+["'](fs|net|dgram|crypto|buffer)["']/);
    expect(source, file).not.toMatch(/\bBuffer\./);
  }
});
