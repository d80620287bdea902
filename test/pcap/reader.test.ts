import { tempDir } from "../support/temp.js";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildIpUdpPacket, LinkType, pcapBytes, udpDatagramOf, type UdpDatagram } from "../../agent/pcap/index.js";
import { captureLoopback } from "../support/dumpcap.js";
import {
  AC,
  AC6,
  AP,
  AP6,
  classicPcap,
  concat,
  block,
  enhancedPacket,
  ethernet,
  interfaceDescription,
  linuxSll,
  linuxSll2,
  loopback,
  obsoletePacket,
  sectionHeader,
  simplePacket,
  udp,
} from "./build.js";
import { chunked, datagramsOf, hexdump, recordsOf, wiresharkTool } from "./support.js";

const T0_MS = 1_706_650_895_000;
const sent: { timeMs: number; datagram: UdpDatagram }[] = [
  { timeMs: T0_MS + 0.25, datagram: udp(AP, AC, [0x00, 0x10, 0x42, 0x00, 0, 0, 0, 0]) },
  { timeMs: T0_MS + 1.5, datagram: udp(AC, AP, Array.from({ length: 1300 }, (_, i) => i & 0xff)) },
  { timeMs: T0_MS + 2, datagram: udp(AP6, AC6, [1, 2, 3]) },
  { timeMs: T0_MS + 3, datagram: udp(AP, AC, []) },
];
const writerFile = pcapBytes(sent);

/** What the reader should find in `writerFile` and in any faithful conversion of it. */
function expectSent(found: Awaited<ReturnType<typeof datagramsOf>>): void {
  expect(found.map((d) => d && { src: d.src, dst: d.dst, payload: Buffer.from(d.payload).toString("hex"), truncated: d.truncated })).toEqual(
    sent.map(({ datagram: d }) => ({ src: d.src, dst: d.dst, payload: Buffer.from(d.payload).toString("hex"), truncated: false })),
  );
  expect(found.map((d) => d?.timeNs)).toEqual(sent.map((s) => BigInt(Math.round(s.timeMs * 1000)) * 1000n));
  expect(found.map((d) => d?.frame)).toEqual([1, 2, 3, 4]);
}

describe("classic pcap", () => {
  it("reads what our PcapWriter writes: IPv4 and IPv6, times to the microsecond", async () => {
    expectSent(await datagramsOf(chunked(writerFile)));
  });

  it("finds the same records however the bytes are chunked", async () => {
    // Views into one chunk or copies across chunks: compare the bytes, not the containers.
    const read = async (size: number) => (await recordsOf(chunked(writerFile, size))).map((r) => ({ ...r, data: Buffer.from(r.data).toString("hex") }));
    const whole = await read(writerFile.length);
    for (const size of [1, 3, 7, 16, 17, 1000]) expect(await read(size)).toEqual(whole);
  });

  it("reads a file by path", async () => {
    const dir = tempDir("reader");
    try {
      writeFileSync(join(dir, "c.pcap"), writerFile);
      expectSent(await datagramsOf(join(dir, "c.pcap")));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads the nanosecond pcap editcap writes (-F nsecpcap)", async () => {
    const nsec = wiresharkTool("editcap", (i, o) => ["-F", "nsecpcap", i, o], writerFile);
    expect(Buffer.from(nsec.subarray(0, 4)).toString("hex")).toBe("4d3cb2a1");
    expectSent(await datagramsOf(chunked(nsec)));
  });

  it("reads big-endian files, microsecond and nanosecond", async () => {
    const ip = buildIpUdpPacket(sent[0]!.datagram);
    for (const nanos of [false, true]) {
      const file = classicPcap(LinkType.Raw, [{ seconds: 1_706_650_895, fraction: nanos ? 123_456_789 : 123_456, data: ip }], { le: false, nanos });
      const [d] = await datagramsOf(chunked(file));
      expect(d?.timeNs).toBe(1_706_650_895_123_456_789n - (nanos ? 0n : 789n));
      expect(d?.src).toEqual(AP);
    }
  });

  it("marks a record cut by the snap length as truncated, and keeps what was captured", async () => {
    const ip = buildIpUdpPacket(sent[1]!.datagram);
    const file = classicPcap(LinkType.Raw, [{ seconds: 1, fraction: 0, data: ip.subarray(0, 100), originalLength: ip.length }]);
    const [d] = await datagramsOf(chunked(file));
    expect(d?.truncated).toBe(true);
    expect(d?.payload).toEqual(sent[1]!.datagram.payload.subarray(0, 100 - 28));
  });
});

describe("pcapng", () => {
  it("reads what editcap -F pcapng converts our capture to", async () => {
    const ng = wiresharkTool("editcap", (i, o) => ["-F", "pcapng", i, o], writerFile);
    expect(Buffer.from(ng.subarray(0, 4)).toString("hex")).toBe("0a0d0d0a");
    expectSent(await datagramsOf(chunked(ng, 5)));
  });

  it("reads several sections in either byte order, with their own interfaces, time resolutions and offsets", async () => {
    const ip4 = buildIpUdpPacket(sent[0]!.datagram);
    const ip6 = buildIpUdpPacket(sent[2]!.datagram);
    const file = concat(
      sectionHeader(true, new Uint8Array(0)),
      interfaceDescription(LinkType.Ethernet, true), // default resolution: microseconds
      interfaceDescription(LinkType.Raw, true, { tsresol: 9 }),
      block(4, new Uint8Array(16)), // Name Resolution Block: skipped
      enhancedPacket(0, 1_706_650_895_000_250n, ethernet(ip4), true, { comment: "first" }),
      enhancedPacket(1, 1_706_650_895_000_250_001n, ip6),
      block(0x00000bad, Uint8Array.of(1, 2, 3, 4, 5)), // custom block: skipped
      sectionHeader(false),
      interfaceDescription(LinkType.LinuxSll2, false, { tsresol: 0x80 | 10, tsoffset: 1_000n }), // 2^-10 s ticks, +1000 s
      enhancedPacket(0, 1024n * 5n + 512n, linuxSll2(ip4), false),
      obsoletePacket(0, 2048n, linuxSll2(ip6), false),
      simplePacket(linuxSll2(ip4), false),
      block(5, new Uint8Array(8), false), // Interface Statistics Block: skipped
    );
    const records = await recordsOf(chunked(file, 13));
    expect(records.map((r) => [r.frame, r.linkType, r.timeNs])).toEqual([
      [1, LinkType.Ethernet, 1_706_650_895_000_250_000n],
      [2, LinkType.Raw, 1_706_650_895_000_250_001n],
      [3, LinkType.LinuxSll2, 1_005_500_000_000n],
      [4, LinkType.LinuxSll2, 1_002_000_000_000n],
      [5, LinkType.LinuxSll2, undefined],
    ]);
    const datagrams = records.map(udpDatagramOf);
    expect(datagrams.map((d) => d?.src)).toEqual([AP, AP6, AP, AP6, AP]);
    expect(datagrams.map((d) => d?.payload.length)).toEqual([8, 3, 8, 3, 8]);
  });

  it("honours the interface snap length in a Simple Packet Block", async () => {
    const ip = buildIpUdpPacket(sent[1]!.datagram);
    const file = concat(sectionHeader(), interfaceDescription(LinkType.Raw, true, { snapLength: 64 }), simplePacket(ip.subarray(0, 64), true, ip.length));
    const [r] = await recordsOf(chunked(file));
    expect(r?.data.length).toBe(64);
    expect(r?.originalLength).toBe(ip.length);
    expect(udpDatagramOf(r!)?.truncated).toBe(true);
  });
});

describe("link layers", () => {
  const v4 = buildIpUdpPacket(sent[0]!.datagram);
  const v6 = buildIpUdpPacket(sent[2]!.datagram);
  const cases: [string, number, Uint8Array, UdpDatagram][] = [
    ["Ethernet", LinkType.Ethernet, ethernet(v4), sent[0]!.datagram],
    ["Ethernet, IPv6", LinkType.Ethernet, ethernet(v6), sent[2]!.datagram],
    ["Ethernet, 802.1Q", LinkType.Ethernet, ethernet(v4, [[0x8100, 100]]), sent[0]!.datagram],
    ["Ethernet, QinQ (802.1ad + 802.1Q)", LinkType.Ethernet, ethernet(v6, [[0x88a8, 10], [0x8100, 20]]), sent[2]!.datagram],
    ["Ethernet, old QinQ 0x9100", LinkType.Ethernet, ethernet(v4, [[0x9100, 10], [0x8100, 20]]), sent[0]!.datagram],
    ["Ethernet, padded to 60 bytes plus FCS", LinkType.Ethernet, concat(ethernet(v4), new Uint8Array(60 - 14 - v4.length + 4)), sent[0]!.datagram],
    ["Linux cooked v1", LinkType.LinuxSll, linuxSll(v4), sent[0]!.datagram],
    ["Linux cooked v2", LinkType.LinuxSll2, linuxSll2(v6), sent[2]!.datagram],
    ["BSD null, little-endian AF_INET", LinkType.Null, loopback(v4, 2, true), sent[0]!.datagram],
    ["BSD null, big-endian AF_INET", LinkType.Null, loopback(v4, 2, false), sent[0]!.datagram],
    ...[10, 24, 28, 30].map((af): [string, number, Uint8Array, UdpDatagram] => [`BSD null, AF_INET6 = ${af}`, LinkType.Null, loopback(v6, af, true), sent[2]!.datagram]),
    ["OpenBSD loop", LinkType.Loop, loopback(v6, 24, false), sent[2]!.datagram],
    ["raw IP (101)", LinkType.Raw, v4, sent[0]!.datagram],
    ["raw IP (BSD 12)", LinkType.RawBsd, v6, sent[2]!.datagram],
    ["raw IP (OpenBSD 14)", LinkType.RawOpenBsd, v4, sent[0]!.datagram],
    ["IPv4 (228)", LinkType.Ipv4, v4, sent[0]!.datagram],
    ["IPv6 (229)", LinkType.Ipv6, v6, sent[2]!.datagram],
  ];
  for (const [name, linkType, frame, want] of cases) {
    it(`finds the UDP datagram in ${name}`, async () => {
      const [d] = await datagramsOf(chunked(classicPcap(linkType, [{ seconds: 1, fraction: 0, data: frame }])));
      expect(d && { src: d.src, dst: d.dst, payload: d.payload, truncated: d.truncated }).toEqual({ ...want, truncated: false });
    });
  }

  const notUdp: [string, number, Uint8Array][] = [
    ["an ARP frame", LinkType.Ethernet, ethernet(new Uint8Array(28), [], 0x0806)],
    ["an 802.3 length frame", LinkType.Ethernet, ethernet(v4, [], 0x05dc)],
    ["a TCP segment", LinkType.Raw, Uint8Array.from(v4, (b, i) => (i === 9 ? 6 : b))],
    ["a non-first IPv4 fragment", LinkType.Raw, Uint8Array.from(v4, (b, i) => (i === 7 ? 0x10 : b))],
    ["an AppleTalk loopback frame", LinkType.Null, loopback(v4, 16, true)],
    ["an unsupported link type (802.11)", 105, v4],
    ["a frame shorter than its Ethernet header", LinkType.Ethernet, new Uint8Array(13)],
    ["a frame shorter than its SLL header", LinkType.LinuxSll, linuxSll(v4).subarray(0, 15)],
    ["an IPv4 header with IHL 4", LinkType.Raw, Uint8Array.from(v4, (b, i) => (i === 0 ? 0x44 : b))],
    ["an IPv6 packet cut inside its header", LinkType.Raw, v6.subarray(0, 39)],
    ["an IP version 5 packet", LinkType.Raw, Uint8Array.from(v4, (b, i) => (i === 0 ? 0x55 : b))],
    ["a UDP length below 8", LinkType.Raw, Uint8Array.from(v4, (b, i) => (i === 25 ? 4 : b))],
  ];
  for (const [name, linkType, frame] of notUdp) {
    it(`skips ${name}`, async () => {
      expect(await datagramsOf(chunked(classicPcap(linkType, [{ seconds: 1, fraction: 0, data: frame }])))).toEqual([undefined]);
    });
  }

  it("marks the first fragment of a fragmented IPv4 datagram as truncated", async () => {
    const first = Uint8Array.from(buildIpUdpPacket(sent[1]!.datagram).subarray(0, 20 + 8 + 504), (b, i) => (i === 6 ? 0x20 : i === 2 ? 0x02 : i === 3 ? 0x14 : b));
    const [d] = await datagramsOf(chunked(classicPcap(LinkType.Raw, [{ seconds: 1, fraction: 0, data: first }])));
    expect(d?.truncated).toBe(true);
    expect(d?.payload.length).toBe(504);
  });

  describe("IPv6 extension headers", () => {
    const udpPart = v6.subarray(40);
    /** v6 with extension headers (each given as its full bytes, next-header byte filled in) before UDP. */
    const withExtensions = (...ext: [type: number, bytes: number[]][]) => {
      const chain = ext.map(([, bytes], i) => Uint8Array.from(bytes, (b, j) => (j === 0 ? (ext[i + 1]?.[0] ?? 17) : b)));
      const header = Uint8Array.from(v6.subarray(0, 40));
      const payloadLength = chain.reduce((n, c) => n + c.length, 0) + udpPart.length;
      header[4] = payloadLength >> 8;
      header[5] = payloadLength & 0xff;
      header[6] = ext[0]?.[0] ?? 17;
      return concat(header, ...chain, udpPart);
    };
    const hopByHop: [number, number[]] = [0, [0, 0, 1, 4, 0, 0, 0, 0]];
    const destination: [number, number[]] = [60, [0, 1, ...new Array<number>(14).fill(0)]];
    const routing: [number, number[]] = [43, [0, 0, 0, 0, 0, 0, 0, 0]];
    const auth: [number, number[]] = [51, [0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]];
    const datagram = async (packet: Uint8Array) => (await datagramsOf(chunked(classicPcap(LinkType.Raw, [{ seconds: 1, fraction: 0, data: packet }]))))[0];

    it("walks hop-by-hop, routing, destination options and AH to the UDP header", async () => {
      const d = await datagram(withExtensions(hopByHop, routing, auth, destination));
      expect(d && { src: d.src, payload: d.payload, truncated: d.truncated }).toEqual({ src: AP6, payload: sent[2]!.datagram.payload, truncated: false });
    });

    it("reads the first fragment (offset 0, M set) as truncated and skips the others", async () => {
      expect((await datagram(withExtensions(hopByHop, [44, [0, 0, 0, 1, 0, 0, 0, 9]])))?.truncated).toBe(true);
      expect(await datagram(withExtensions([44, [0, 0, 0, 0x19, 0, 0, 0, 9]]))).toBeUndefined();
      expect((await datagram(withExtensions([44, [0, 0, 0, 0, 0, 0, 0, 9]])))?.truncated).toBe(false); // atomic fragment
    });

    it("gives up on ESP, No Next Header, and a header chain running past the packet", async () => {
      expect(await datagram(withExtensions([50, [0, 0, 0, 0, 0, 0, 0, 0]]))).toBeUndefined();
      expect(await datagram(withExtensions([59, [0, 0, 0, 0, 0, 0, 0, 0]]))).toBeUndefined();
      expect(await datagram(withExtensions([0, [0, 200, 0, 0, 0, 0, 0, 0]]))).toBeUndefined();
    });
  });
});

describe("files from text2pcap (Ethernet + IPv4/IPv6 + UDP dummy headers)", () => {
  const payloads = [Uint8Array.of(0x00, 0x10, 0x42, 0x00), Uint8Array.from({ length: 300 }, (_, i) => i & 0xff)];
  for (const [format, family, addresses] of [
    ["pcapng", "-4", "192.0.2.10,192.0.2.1"],
    ["pcap", "-6", "2001:db8::10,2001:db8::1"],
  ] as const) {
    it(`${format}, ${family === "-4" ? "IPv4" : "IPv6"}: ports, addresses and payloads without the Ethernet padding`, async () => {
      const file = wiresharkTool("text2pcap", (i, o) => ["-q", "-F", format, family, addresses, "-u", "5264,5246", i, o], hexdump(payloads));
      const records = await recordsOf(chunked(file));
      expect(records.map((r) => r.linkType)).toEqual([LinkType.Ethernet, LinkType.Ethernet]);
      const [src, dst] = addresses.split(",");
      expect(records.map(udpDatagramOf)).toMatchObject(payloads.map((payload) => ({ src: { address: src, port: 5264 }, dst: { address: dst, port: 5246 }, payload, truncated: false })));
    });
  }
});

describe("live loopback captures by the real dumpcap", () => {
  const payloads = [Uint8Array.of(0x00, 0x10, 0x42, 0x00), Uint8Array.from({ length: 1200 }, (_, i) => (i * 7) & 0xff), Uint8Array.of()];
  for (const [name, args, linkType, magic] of [
    ["lo, pcapng (Ethernet)", ["-i", "lo"], LinkType.Ethernet, "0a0d0d0a"],
    ["lo, classic pcap (Ethernet)", ["-i", "lo", "-P"], LinkType.Ethernet, "d4c3b2a1"],
    ["any, Linux cooked v1", ["-i", "any", "-y", "LINUX_SLL"], LinkType.LinuxSll, "0a0d0d0a"],
    ["any, Linux cooked v2", ["-i", "any", "-y", "LINUX_SLL2"], LinkType.LinuxSll2, "0a0d0d0a"],
  ] as const) {
    it(name, async () => {
      const before = BigInt(Date.now()) * 1_000_000n;
      const live = await captureLoopback(payloads, [...args]);
      const after = BigInt(Date.now() + 1) * 1_000_000n;
      expect(Buffer.from(live.file.subarray(0, 4)).toString("hex")).toBe(magic);
      const records = await recordsOf(chunked(live.file));
      expect(new Set(records.map((r) => r.linkType))).toEqual(new Set([linkType]));
      const ours = records.map(udpDatagramOf).filter((d) => d?.dst.port === live.port);
      for (const p of payloads) {
        const d = ours.find((x) => Buffer.from(x!.payload).equals(p));
        expect(d, `payload of ${p.length} bytes`).toBeDefined();
        expect(d).toMatchObject({ src: { address: "127.0.0.1", port: live.senderPort }, dst: { address: "127.0.0.1", port: live.port }, truncated: false });
        expect(d!.timeNs! >= before && d!.timeNs! <= after, `time ${d!.timeNs} within the test`).toBe(true);
      }
    });
  }
});
