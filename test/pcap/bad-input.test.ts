import { describe, expect, it } from "vitest";
import { buildIpUdpPacket, LinkType, MAX_RECORD_BYTES, PcapFormatError, pcapBytes } from "../../agent/pcap/index.js";
import { AC, AP, block, classicPcap, concat, enhancedPacket, interfaceDescription, sectionHeader, udp } from "./build.js";
import { chunked, readUntilError } from "./support.js";

const ip = buildIpUdpPacket(udp(AP, AC, [0, 0x10, 0x42, 0, 0, 0, 0, 0]));
const good = pcapBytes([0, 1, 2].map((i) => ({ timeMs: 1_000 + i, datagram: udp(AP, AC, [i]) })));
const ngHead = concat(sectionHeader(), interfaceDescription(LinkType.Raw));
const ngPacket = enhancedPacket(0, 1n, ip);

/** Patch bytes of a copy: [offset, ...bytes]. */
function patched(bytes: Uint8Array, at: number, ...values: number[]): Uint8Array {
  const out = Uint8Array.from(bytes);
  out.set(values, at);
  return out;
}

const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];

/** [name, file, error message pattern, records read before the error]. */
const cases: [string, Uint8Array, RegExp, number][] = [
  ["an empty file", new Uint8Array(0), /file is empty at byte 0/, 0],
  ["a file cut inside the magic", Uint8Array.of(0xd4, 0xc3), /ends inside the file magic: 4 bytes needed, 2 left at byte 0/, 0],
  ["wrong magic", Buffer.from("GIF89a..........................") as Uint8Array, /magic 0x47494638 is neither pcap nor pcapng at byte 0/, 0],
  ["a truncated pcap file header", good.subarray(0, 10), /ends inside the pcap file header: 20 bytes needed, 6 left at byte 4/, 0],
  ["pcap version 1", patched(good, 4, 1, 0), /pcap version 1\.4 is not 2\.x/, 0],
  ["a truncated record header after good records", concat(good, new Uint8Array(7)), /ends inside the pcap record header: 16 bytes needed, 7 left/, 3],
  ["a truncated final record", good.subarray(0, good.length - 1), /ends inside the record 3 data: 29 bytes needed, 28 left/, 2],
  ["a record claiming 4 GB", patched(good, 24 + 8, ...le32(0xffffffff)), /record 1 claims 4294967295 captured bytes, above the 262144-byte limit at byte 32/, 0],
  ["a record one byte over the limit", patched(good, 24 + 8, ...le32(MAX_RECORD_BYTES + 1)), /above the 262144-byte limit/, 0],
  ["a pcapng file cut inside the section header", ngHead.subarray(0, 9), /ends inside the section header/, 0],
  ["a section header with a bad byte-order magic", patched(ngHead, 8, 1, 2, 3, 4), /byte-order magic 0x01020304 is not 1a2b3c4d at byte 8/, 0],
  ["a section header shorter than 28 bytes", patched(ngHead, 4, ...le32(24)), /block length 24 is below the 28-byte minimum at byte 4/, 0],
  ["pcapng version 2", patched(ngHead, 12, 2, 0), /pcapng version 2\.0 is not 1\.x at byte 12/, 0],
  ["a zero-length block", concat(ngHead, ngPacket, Uint8Array.of(6, 0, 0, 0, 0, 0, 0, 0)), /block length 0 is below the 12-byte minimum/, 1],
  ["a block length that is not a multiple of 4", concat(ngHead, patched(ngPacket, 4, ...le32(ngPacket.length + 1))), /block length \d+ is not a multiple of 4/, 0],
  ["a block whose trailing length differs from its header", concat(ngHead, patched(ngPacket, ngPacket.length - 4, ...le32(ngPacket.length + 4))), /block trailer says \d+ bytes, its header \d+/, 0],
  ["a packet before any interface description", concat(sectionHeader(), ngPacket), /packet refers to interface 0, but the section describes 0/, 0],
  ["a packet on an interface of an earlier section", concat(ngHead, sectionHeader(), ngPacket), /refers to interface 0, but the section describes 0/, 0],
  ["a captured length running past its block", concat(ngHead, patched(ngPacket, 8 + 12, ...le32(ip.length + 64))), /packet 1 data \(\d+ bytes\) overruns its \d+-byte block/, 0],
  ["a packet claiming 4 GB", concat(ngHead, patched(ngPacket, 8 + 12, ...le32(0xffffffff))), /packet 1 claims 4294967295 captured bytes, above the 262144-byte limit/, 0],
  ["an interface option running past its block", concat(sectionHeader(), block(1, Uint8Array.of(101, 0, 0, 0, 0, 0, 0, 0, 9, 0, 200, 0))), /option 9 \(200 bytes\) overruns its 24-byte block/, 0],
  ["a pcapng file cut inside its last packet", concat(ngHead, ngPacket, ngPacket).subarray(0, ngHead.length + ngPacket.length + 30), /ends inside the packet 2 data/, 1],
  ["a pcapng file cut before a block trailer", concat(ngHead, ngPacket).subarray(0, ngHead.length + ngPacket.length - 2), /ends inside the block trailer: 4 bytes needed, 2 left/, 0],
];

describe("a broken capture file ends the stream with one typed, one-line error", () => {
  for (const [name, file, message, before] of cases) {
    it(name, async () => {
      for (const chunkSize of [file.length || 1, 1]) {
        const { records, error } = await readUntilError(chunked(file, chunkSize));
        expect(error).toBeInstanceOf(PcapFormatError);
        expect((error as PcapFormatError).code).toBe("PCAP_FORMAT");
        expect((error as Error).message).toMatch(message);
        expect((error as Error).message).not.toContain("\n");
        expect(records.length).toBe(before);
      }
    });
  }
});

describe("lengths never make the reader allocate or buffer ahead of the bytes", () => {
  /** `head`, then zeros forever; counts how many bytes the reader pulled. */
  function endless(head: Uint8Array): { source: AsyncIterable<Uint8Array>; pulled: () => number } {
    let pulled = 0;
    const zeros = new Uint8Array(65536);
    async function* source() {
      pulled += head.length;
      yield head;
      for (;;) {
        pulled += zeros.length;
        yield zeros;
      }
    }
    return { source: source(), pulled: () => pulled };
  }

  it("rejects a 4 GB pcap record after reading only its header", async () => {
    const { source, pulled } = endless(classicPcap(LinkType.Raw, [{ seconds: 0, fraction: 0, data: new Uint8Array(0), capturedLength: 0xffffffff }]));
    const { error } = await readUntilError(source);
    expect(error).toBeInstanceOf(PcapFormatError);
    expect(pulled()).toBeLessThanOrEqual(40);
  });

  it("rejects a 4 GB pcapng packet inside a 4 GB block after reading only its header", async () => {
    const epb = patched(patched(enhancedPacket(0, 0n, new Uint8Array(0)), 4, ...le32(0xfffffffc)), 20, ...le32(0xffffffff));
    const { source, pulled } = endless(concat(ngHead, epb.subarray(0, 28)));
    const { error } = await readUntilError(source);
    expect((error as Error).message).toMatch(/claims 4294967295 captured bytes/);
    expect(pulled()).toBe(ngHead.length + 28);
  });

  it("skips a 4 GB block of unknown type in constant memory", async () => {
    const { source, pulled } = endless(concat(ngHead, Uint8Array.of(0xad, 0x0b, 0, 0, ...le32(0xfffffffc))));
    const rss = process.memoryUsage().rss;
    const { error } = await readUntilError(source);
    // The zeros after the body are read as its trailing length: 0, not 0xfffffffc.
    expect((error as Error).message).toMatch(/block trailer says 0 bytes, its header 4294967292/);
    expect(pulled()).toBeGreaterThan(0xfffffffc);
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 1024 * 1024);
  });
});
