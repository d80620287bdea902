import { describe, expect, it } from "vitest";
import { controlHeader, decodeControlMessage, elementName, encodeControlMessage, messageToJson, messageTypeName } from "../../agent/capwap/codec/index.js";
import { CISCO_VENDOR_ID, profiles, type Message } from "../../agent/capwap/profiles/index.js";
import { rfc5415Messages, SESSION_ID } from "./samples.js";

const table = profiles.rfc5415.elements;

describe("messageToJson", () => {
  it("names the message and every element of every sample, and survives JSON.stringify unchanged", () => {
    for (const { name, message } of rfc5415Messages()) {
      const decoded = decodeControlMessage(encodeControlMessage(message, table), table);
      const json = messageToJson(decoded, table);
      expect(json.typeName, name).toBe(messageTypeName(message.type));
      expect(json.seq).toBe(message.seq);
      expect(json.elements.map((e) => e.kind)).toEqual(message.elements.map((e) => e.kind));
      expect(json.elements.map((e) => e.name)).toEqual(message.elements.map((e) => table.byKind(e.kind)!.name));
      expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    }
  });

  it("puts decoded fields under `fields`, bytes as hex, nested lists as lists", () => {
    const join = rfc5415Messages().find((s) => s.name === "join request")!.message;
    const json = messageToJson(join, table);
    expect(json.elements.find((e) => e.kind === "SessionId")).toEqual({ type: 35, name: "Session ID", kind: "SessionId", fields: { sessionId: Buffer.from(SESSION_ID).toString("hex") } });
    expect(json.elements.find((e) => e.kind === "WtpName")?.fields).toEqual({ name: "AP0011.2233.4455" });
    const board = json.elements.find((e) => e.kind === "WtpBoardData")!;
    expect(board.fields?.items).toContainEqual({ type: 0, data: Buffer.from("C9120AXI-B").toString("hex") });
  });

  it("shows undecodable elements as hex with their RFC name, and vendor elements with their ids", () => {
    const msg: Message = {
      type: 3,
      seq: 9,
      flags: 1,
      elements: [
        { kind: "Unknown", type: 42, value: Uint8Array.of(192, 0, 2, 10) },
        { kind: "Unknown", type: 999, value: Uint8Array.of() },
        { kind: "VendorSpecific", vendorId: 9, elementId: 1, data: Uint8Array.of(0xab) },
        { kind: "CiscoApTimeSync", timestamp: 1_700_000_000, type: 0 },
      ],
    };
    expect(messageToJson(msg, profiles.cisco.elements)).toEqual({
      type: 3,
      typeName: "Join Request",
      seq: 9,
      flags: 1,
      elements: [
        { type: 42, name: "WTP IPv4 Address", hex: "c000020a" },
        { type: 999, name: elementName(999), hex: "" },
        { type: 37, name: "Vendor Specific Payload", vendorId: 9, elementId: 1, hex: "ab" },
        { type: 37, name: "Cisco AP Time Sync", kind: "CiscoApTimeSync", vendorId: CISCO_VENDOR_ID, elementId: 151, fields: { timestamp: 1_700_000_000, type: 0 } },
      ],
    });
    expect(elementName(999)).toBe("Unknown Element 999");
  });

  it("includes the header when given, its optional fields as hex", () => {
    const header = controlHeader({ radioMac: Uint8Array.of(0, 0x11, 0x22, 0x33, 0x44, 0x55) });
    const json = messageToJson({ type: 13, seq: 1, elements: [] }, table, header);
    expect(json.header).toEqual({ rid: 0, wbid: 1, t: false, f: false, l: false, k: false, flags: 0, fragmentId: 0, fragmentOffset: 0, radioMac: "001122334455" });
    expect(Object.keys(json)).toEqual(["header", "type", "typeName", "seq", "elements"]);
  });
});
