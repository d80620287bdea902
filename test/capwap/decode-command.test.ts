import { tempDir } from "../support/temp.js";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { controlHeader, encodeControlMessage, encodeControlPacket, encodeDataKeepAlive, fragmentPayload, messageTypeName } from "../../agent/capwap/codec/index.js";
import { ciscoProfile, type Element, rfc5415Profile } from "../../agent/capwap/profiles/index.js";
import { vap } from "../support/cli.js";
import { pcapBytes, type UdpDatagram } from "../../agent/pcap/index.js";
import { captureLoopback } from "../support/dumpcap.js";
import { wiresharkTool } from "../pcap/support.js";
import { AC, AP, captureOf } from "./golden-support.js";
import { rfc5415Messages, SESSION_ID } from "./samples.js";

const dir = tempDir("decode");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function fileOf(bytes: Uint8Array): string {
  const path = join(dir, `capture-${files++}`);
  writeFileSync(path, bytes);
  return path;
}

type Line = Record<string, any>;

async function decode(...args: string[]): Promise<{ code: number; lines: Line[]; stdout: string; stderr: string }> {
  const { code, out, err } = await vap("capwap", "decode", ...args);
  return { code, lines: out.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Line), stdout: out, stderr: err };
}

const samples = rfc5415Messages();
const table = rfc5415Profile.elements;
// Fragmented at 200 bytes: the larger messages go out in several fragments each.
const { pcap, packetsPerSample } = captureOf(samples, rfc5415Profile, 200);
const packets = packetsPerSample.reduce((a, b) => a + b);
const pcapFile = fileOf(pcap);
const fieldsOf = (line: Line, kind: string) => line.elements.find((e: Line) => e.kind === kind)?.fields;

describe("vap capwap decode on a capture of every sample message", () => {
  it("prints one line per message: names, sequence numbers, elements, decoded fields, reassembled once", async () => {
    const { code, lines, stderr } = await decode(pcapFile, "--profile", "rfc5415");
    expect(code).toBe(0);
    expect(lines.map((l) => l.typeName)).toEqual(samples.map((s) => messageTypeName(s.message.type)));
    expect(lines.map((l) => l.seq)).toEqual(samples.map((s) => s.message.seq));
    expect(lines.map((l) => l.elements.map((e: Line) => e.name))).toEqual(samples.map((s) => s.message.elements.map((e) => table.byKind(e.kind)!.name)));
    expect(lines.map((l) => l.reassembled === true)).toEqual(packetsPerSample.map((n) => n > 1));
    expect(packetsPerSample.filter((n) => n > 1).length).toBeGreaterThan(3);
    expect(lines.map((l) => [l.src, l.dst, l.channel, l.profile])).toEqual(
      samples.map((s) => (s.direction === "ap" ? [`${AP.address}:${AP.port}`, `${AC.address}:${AC.port}`] : [`${AC.address}:${AC.port}`, `${AP.address}:${AP.port}`]).concat("control", "rfc5415")),
    );
    // A reassembled message is printed with the frame and time of the fragment that completed it.
    const first = packetsPerSample[0]!;
    expect(first).toBeGreaterThan(1);
    expect(lines[0]).toMatchObject({ frame: first, time: `2024-01-30T21:41:35.00${first - 1}000000Z`, header: { rid: 0, wbid: 1, t: false, f: false, k: false } });

    const byName = new Map(samples.map((s, i) => [s.name, lines[i]!]));
    expect(fieldsOf(byName.get("join request")!, "WtpName")).toEqual({ name: "AP0011.2233.4455" });
    expect(fieldsOf(byName.get("join request")!, "SessionId")).toEqual({ sessionId: Buffer.from(SESSION_ID).toString("hex") });
    expect(fieldsOf(byName.get("discovery response")!, "AcDescriptor")).toMatchObject({ stations: 12, limit: 16000, maxWtps: 6000 });
    expect(fieldsOf(byName.get("image data response (information)")!, "ImageInformation")).toEqual({ fileSize: 70_512_640, hash: "d41d8cd98f00b204e9800998ecf8427e" });
    expect(fieldsOf(byName.get("image data request (block)")!, "ImageData").data).toHaveLength(2048);
    expect(stderr).toBe(`vap capwap decode: ${packets} packets, ${packets} CAPWAP, 0 skipped (not CAPWAP), 0 not decodable\n`);
  });

  it("decodes with the cisco profile first under --profile auto (the default)", async () => {
    const { code, lines } = await decode(pcapFile);
    expect(code).toBe(0);
    // Element 24 has two layouts: under auto an RFC Image Data block reads as Cisco's LWAPP
    // layout (it parses either way); an RFC WTP Descriptor does not parse as draft 7, so
    // those messages fall back to the RFC profile.
    const cisco = ciscoProfile.elements;
    const expected = samples.map((s) => {
      const rfcOnly = s.message.elements.some((e) => e.kind === "WtpDescriptor");
      return s.message.elements.map((e) => (rfcOnly ? table.byKind(e.kind)! : (cisco.byType(table.byKind(e.kind)!.type) ?? table.byKind(e.kind)!)).name);
    });
    expect(lines.map((l) => l.elements.map((e: Line) => e.name))).toEqual(expected);
    expect(expected.flat()).toContain("Image Data (LWAPP)");
    expect(lines.every((l) => l.profile === "cisco" || l.profile === "rfc5415")).toBe(true);
    expect(lines.find((l) => l.typeName === "Echo Request")?.profile).toBe("cisco");
  });

  it("prints the same lines for the pcapng editcap converts the capture to", async () => {
    const ng = wiresharkTool("editcap", (i, o) => ["-F", "pcapng", i, o], pcap);
    const [fromPcap, fromPcapng] = await Promise.all([decode(pcapFile), decode(fileOf(ng))]);
    expect(fromPcapng.code).toBe(0);
    expect(fromPcapng.stdout).toBe(fromPcap.stdout);
  });

  it("prints the messages of a live loopback capture by dumpcap, on a control port given by --control-port", async () => {
    const datagrams = samples.slice(0, 8).flatMap((s, i) => fragmentPayload(encodeControlMessage(s.message, table), controlHeader(), 512, i + 1));
    const live = await captureLoopback(datagrams, ["-i", "lo"]);
    const { code, lines } = await decode(fileOf(live.file), "--control-port", String(live.port), "--profile", "rfc5415");
    expect(code).toBe(0);
    expect(lines.map((l) => [l.typeName, l.seq, l.src, l.dst])).toEqual(samples.slice(0, 8).map((s) => [messageTypeName(s.message.type), s.message.seq, `127.0.0.1:${live.senderPort}`, `127.0.0.1:${live.port}`]));
  });
});

describe("vap capwap decode on a capture mixing good, broken, encrypted, data and foreign packets", () => {
  const AP_DATA = { address: AP.address, port: 5247 };
  const AC_DATA = { address: AC.address, port: 5247 };
  const wtpName: Element = { kind: "WtpName", name: "x" };
  const sessionId: Element = { kind: "SessionId", sessionId: SESSION_ID };
  const brokenEvent = Uint8Array.from(encodeControlPacket({ type: 9, seq: 5, elements: [wtpName] }, table), (b, i) => (i === 19 ? 200 : b));
  const frame = Uint8Array.from({ length: 2000 }, (_, i) => i & 0xff);
  const datagrams: UdpDatagram[] = [
    { src: AP, dst: AC, payload: encodeControlPacket({ type: 13, seq: 4, elements: [] }, table) },
    { src: AP, dst: AC, payload: brokenEvent },
    { src: AP, dst: AC, payload: Uint8Array.of(0x01, 0, 0, 0, 22, 0xfe, 0xfd, 0, 0) },
    { src: AP, dst: { address: "192.0.2.53", port: 53 }, payload: Uint8Array.of(1, 2, 3) },
    { src: { address: "2001:db8::10", port: 5264 }, dst: { address: "2001:db8::1", port: 5246 }, payload: encodeControlPacket({ type: 14, seq: 4, elements: [] }, table) },
    { src: AP_DATA, dst: AC_DATA, payload: encodeDataKeepAlive([sessionId], table) },
    ...fragmentPayload(frame, controlHeader({ t: true }), 1000, 3).map((payload) => ({ src: AC_DATA, dst: AP_DATA, payload })),
    { src: AC, dst: AP, payload: Uint8Array.of(0x00, 0x10) },
  ];
  const file = fileOf(pcapBytes(datagrams.map((datagram, i) => ({ timeMs: 1_706_650_895_000 + i, datagram }))));

  it("reports the broken packet's error with its offset and goes on; DTLS is reported, not decoded; foreign traffic is counted", async () => {
    const { code, lines, stderr } = await decode(file);
    expect(code).toBe(0);
    expect(lines.map((l) => l.frame)).toEqual([1, 2, 3, 5, 6, 9, 10]);
    expect(lines[0]).toMatchObject({ channel: "control", typeName: "Echo Request", seq: 4 });
    expect(lines[1]).toEqual({
      frame: 2,
      time: "2024-01-30T21:41:35.001000000Z",
      src: "192.0.2.10:5264",
      dst: "192.0.2.1:5246",
      channel: "control",
      error: "CAPWAP decode: element length 200 exceeds the 1 bytes left at byte 18 in WTP Event Request(9) element WTP Name(45)",
    });
    expect(lines[2]).toMatchObject({ channel: "control", dtls: { encrypted: true, record: "handshake", length: 5 } });
    expect(lines[2]).not.toHaveProperty("elements");
    expect(lines[3]).toMatchObject({ src: "[2001:db8::10]:5264", dst: "[2001:db8::1]:5246", typeName: "Echo Response" });
    expect(lines[4]).toMatchObject({ channel: "data", keepAlive: true, header: { k: true }, elements: [{ name: "Session ID", fields: { sessionId: Buffer.from(SESSION_ID).toString("hex") } }] });
    expect(lines[5]).toMatchObject({ frame: 9, channel: "data", reassembled: true, header: { t: true, wbid: 1 }, payload: { length: 2000, format: "IEEE 802.11" } });
    expect(lines[6]).toMatchObject({ frame: 10, channel: "control", error: "CAPWAP decode: header needs 2 byte(s), 0 left at byte 2" });
    expect(stderr).toBe("vap capwap decode: 10 packets, 9 CAPWAP, 1 skipped (not CAPWAP), 2 not decodable\n");
  });
});

describe("vap capwap decode counts every fragmented message that never completed", () => {
  it("those still waiting at the end, timed out on the way, and superseded by a reused Fragment ID", async () => {
    const big = samples.map((s) => encodeControlMessage(s.message, table)).filter((m) => m.length > 200);
    const fragmentsOf = (i: number, id: number) => fragmentPayload(big[i]!, controlHeader(), 200, id);
    const t0 = 1_706_650_895_000;
    const at = (timeMs: number, payload: Uint8Array) => ({ timeMs, datagram: { src: AP, dst: AC, payload } });
    const file = fileOf(
      pcapBytes([
        at(t0, fragmentsOf(0, 1)[0]!), // expires: nothing more of id 1 within a minute
        at(t0 + 1, fragmentsOf(1, 7)[0]!), // superseded: id 7 starts another message
        ...fragmentsOf(2, 7).map((p, i) => at(t0 + 61_000 + i, p)),
        at(t0 + 62_000, fragmentsOf(0, 9)[0]!), // still waiting when the capture ends
      ]),
    );
    const { code, lines, stderr } = await decode(file, "--profile", "rfc5415");
    expect(code).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ reassembled: true });
    expect(stderr).toMatch(/, 3 fragmented message\(s\) incomplete\n$/);
  });
});

describe("vap capwap decode on input it cannot read fully: a one-line error and a non-zero exit", () => {
  it("prints every message before the point where the capture is cut, then the error", async () => {
    const whole = await decode(pcapFile, "--profile", "rfc5415");
    const { code, lines, stderr } = await decode(fileOf(pcap.subarray(0, pcap.length - 3)), "--profile", "rfc5415");
    expect(code).toBe(1);
    expect(lines).toEqual(whole.lines.slice(0, -1));
    expect(stderr).toMatch(/^vap capwap decode: capture file: file ends inside the record \d+ data: \d+ bytes needed, \d+ left at byte \d+\n$/);
  });

  // A mistake in the command line's words gets a second line pointing at --help; anything else is one line.
  const HELP_HINT = "see vap capwap decode --help";
  for (const [name, args, exitCode, message, hint] of [
    // exit 2: the command line names something unusable; exit 1: the capture itself is bad.
    ["a missing file", [join(dir, "absent.pcap")], 2, /^vap capwap decode: cannot read .*absent\.pcap: ENOENT: no such file or directory/, false],
    ["a directory", [dir], 2, /^vap capwap decode: cannot read .*: EISDIR/, false],
    ["a file that is no capture", [fileOf(Buffer.from("just some text, no capture at all"))], 1, /^vap capwap decode: capture file: magic 0x6a757374 is neither pcap nor pcapng at byte 0/, false],
    ["no FILE", [], 2, /^vap capwap decode: expected one capture FILE, got 0 arguments/, true],
    ["an unknown profile", [pcapFile, "--profile", "aruba"], 2, /^vap capwap decode: --profile must be auto, rfc5415 or cisco, not "aruba"/, false],
    ["a port out of range", [pcapFile, "--data-port", "70000"], 2, /^vap capwap decode: --data-port must be a UDP port \(1-65535\), not "70000"/, false],
    ["an unknown option", [pcapFile, "--verbose"], 2, /^vap capwap decode: Unknown option '--verbose'$/, true],
  ] as const) {
    it(name, async () => {
      const { code, stdout, stderr } = await decode(...args);
      expect(code).toBe(exitCode);
      expect(stdout).toBe("");
      const [first, ...more] = stderr.trimEnd().split("\n");
      expect(first).toMatch(message);
      expect(more).toEqual(hint ? [HELP_HINT] : []);
    });
  }

  it("--help shows the options", async () => {
    const help = await vap("capwap", "decode", "--help");
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^usage: vap capwap decode FILE \[--profile auto\|cisco\|rfc5415\] \[--control-port N\] \[--data-port N\]/);
  });
});
