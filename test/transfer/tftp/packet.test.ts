import { describe, expect, it } from "vitest";
import { decodePacket, encodeDataHeader, encodePacket, Opcode, type TftpPacket, TftpDecodeError, TftpErrorCode } from "../../../agent/transfer/tftp/packet.js";
import { acceptOptionAck, negotiateAsServer } from "../../../agent/transfer/tftp/options.js";

const hex = (h: string) => Uint8Array.from((h.match(/../g) ?? []).map((b) => parseInt(b, 16)));
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");

describe("TFTP packets (RFC 1350 §5, RFC 2347 §2)", () => {
  it("a DATA header sent ahead of its block is the encoded packet's first 4 bytes", () => {
    for (const block of [0, 1, 255, 256, 65535]) {
      const data = hex("c0ffee");
      expect([...encodeDataHeader(block), ...data]).toEqual([...encodePacket({ opcode: Opcode.Data, block, data })]);
    }
  });

  const golden: [string, TftpPacket, string][] = [
    [
      "RRQ with options, as atftp sends it",
      { opcode: Opcode.ReadRequest, filename: "ap1g8", mode: "octet", options: new Map([["blksize", "1468"], ["windowsize", "16"]]) },
      `0001${ascii("ap1g8")}00${ascii("octet")}00${ascii("blksize")}00${ascii("1468")}00${ascii("windowsize")}00${ascii("16")}00`,
    ],
    ["WRQ without options", { opcode: Opcode.WriteRequest, filename: "x", mode: "octet", options: new Map() }, `0002${ascii("x")}00${ascii("octet")}00`],
    ["DATA", { opcode: Opcode.Data, block: 0xfffe, data: hex("0102ff") }, "0003fffe0102ff"],
    ["empty final DATA", { opcode: Opcode.Data, block: 9, data: new Uint8Array() }, "00030009"],
    ["ACK of the OACK", { opcode: Opcode.Ack, block: 0 }, "00040000"],
    ["ERROR", { opcode: Opcode.Error, code: TftpErrorCode.FileNotFound, message: "File not found" }, `00050001${ascii("File not found")}00`],
    ["OACK", { opcode: Opcode.OptionAck, options: new Map([["tsize", "70512640"]]) }, `0006${ascii("tsize")}00${ascii("70512640")}00`],
  ];
  it.each(golden)("%s encodes to the bytes and decodes back", (_name, packet, bytes) => {
    expect(Buffer.from(encodePacket(packet)).toString("hex")).toBe(bytes);
    expect(decodePacket(hex(bytes))).toEqual(packet);
  });

  it("reads option names and mode case-insensitively (RFC 2347 §2) and keeps every byte of a name", () => {
    const p = decodePacket(hex(`0001${ascii("AP1G8")}ff00${ascii("OCTET")}00${ascii("BlkSize")}00${ascii("8")}00`));
    expect(p).toEqual({ opcode: Opcode.ReadRequest, filename: "AP1G8\xff", mode: "octet", options: new Map([["blksize", "8"]]) });
    expect(encodePacket(p)).toEqual(hex(`0001${ascii("AP1G8")}ff00${ascii("octet")}00${ascii("blksize")}00${ascii("8")}00`));
  });

  it("takes an ERROR whose peer forgot the NUL or padded after it: it ends the transfer either way", () => {
    expect(decodePacket(hex(`00050000${ascii("busy")}`))).toEqual({ opcode: Opcode.Error, code: 0, message: "busy" });
    expect(decodePacket(hex(`00050000${ascii("busy")}000000`))).toEqual({ opcode: Opcode.Error, code: 0, message: "busy" });
  });

  const malformed: [string, string, TftpErrorCode][] = [
    ["empty datagram", "", TftpErrorCode.IllegalOperation],
    ["one byte", "00", TftpErrorCode.IllegalOperation],
    ["opcode 0", "0000", TftpErrorCode.IllegalOperation],
    ["opcode 7", "0007", TftpErrorCode.IllegalOperation],
    ["opcode 0x0101", "0101", TftpErrorCode.IllegalOperation],
    ["RRQ without NUL after the name", `0001${ascii("ap1g8")}`, TftpErrorCode.IllegalOperation],
    ["RRQ with an empty name", `000100${ascii("octet")}00`, TftpErrorCode.IllegalOperation],
    ["RRQ without a mode", `0001${ascii("f")}00`, TftpErrorCode.IllegalOperation],
    ["RRQ with an option and no value", `0001${ascii("f")}00${ascii("octet")}00${ascii("blksize")}00`, TftpErrorCode.IllegalOperation],
    ["RRQ with an empty option name", `0001${ascii("f")}00${ascii("octet")}00003100`, TftpErrorCode.OptionRefused],
    ["RRQ with an option twice", `0001${ascii("f")}00${ascii("octet")}00${ascii("tsize")}003000${ascii("TSIZE")}003000`, TftpErrorCode.OptionRefused],
    ["DATA without a block number", "000300", TftpErrorCode.IllegalOperation],
    ["ACK with one byte of block", "000400", TftpErrorCode.IllegalOperation],
    ["ACK with trailing bytes", "0004000100", TftpErrorCode.IllegalOperation],
    ["ERROR without a code", "0005", TftpErrorCode.IllegalOperation],
    ["OACK with a name and no value", `0006${ascii("blksize")}00`, TftpErrorCode.IllegalOperation],
  ];
  it.each(malformed)("refuses %s with a TftpDecodeError answering ERROR %s", (_name, bytes, replyCode) => {
    let error: unknown;
    try {
      decodePacket(hex(bytes));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TftpDecodeError);
    expect((error as TftpDecodeError).replyCode).toBe(replyCode);
    expect((error as TftpDecodeError).code).toBe("VAP_TFTP_MALFORMED");
  });

  it("refuses to encode a name that cannot go on the wire", () => {
    expect(() => encodePacket({ opcode: Opcode.ReadRequest, filename: "a\0b", mode: "octet", options: new Map() })).toThrow(/cannot go on the wire/);
    expect(() => encodePacket({ opcode: Opcode.Error, code: 0, message: "€" })).toThrow(/cannot go on the wire/);
  });
});

describe("option negotiation", () => {
  const asked = (entries: [string, string][]) => new Map(entries);

  it("server: accepts blksize, timeout, tsize and windowsize, clamping to its limits", () => {
    const n = negotiateAsServer(asked([["blksize", "70000"], ["timeout", "3"], ["tsize", "0"], ["windowsize", "500"], ["multicast", ""]]), 1234);
    expect([...n.acknowledged]).toEqual([["blksize", "65464"], ["timeout", "3"], ["tsize", "1234"], ["windowsize", "64"]]);
    expect(n.options).toEqual({ blockSize: 65464, windowSize: 64, timeoutMs: 3000, size: 1234 });
  });

  it("server: leaves out what is out of range or not a number (RFC 2347: no OACK entry means refused)", () => {
    const n = negotiateAsServer(asked([["blksize", "7"], ["timeout", "0"], ["windowsize", "0"], ["tsize", "-1"]]), 1);
    expect(n.acknowledged.size).toBe(0);
    expect(negotiateAsServer(asked([["blksize", "1e3"], ["timeout", "256"], ["windowsize", " 4"]]), 1).acknowledged.size).toBe(0);
  });

  it("client: an OACK may narrow the request but never widen it or add to it", () => {
    const request = { blockSize: 1468, windowSize: 16, timeoutSeconds: 2, askSize: true };
    expect(acceptOptionAck(asked([["blksize", "1024"], ["windowsize", "4"], ["timeout", "2"], ["tsize", "99"]]), request)).toEqual({ blockSize: 1024, windowSize: 4, timeoutMs: 2000, size: 99 });
    expect(acceptOptionAck(asked([["blksize", "1469"]]), request)).toMatch(/blksize/);
    expect(acceptOptionAck(asked([["windowsize", "17"]]), request)).toMatch(/windowsize/);
    expect(acceptOptionAck(asked([["timeout", "3"]]), request)).toMatch(/timeout/);
    expect(acceptOptionAck(asked([["multicast", "1"]]), request)).toMatch(/multicast/);
    expect(acceptOptionAck(asked([["tsize", "x"]]), request)).toMatch(/not a number/);
    expect(acceptOptionAck(asked([["tsize", "5"]]), { blockSize: 512 })).toMatch(/tsize/);
  });
});
