/**
 * Seeded mutation fuzz of capture decoding, end to end: reader, link layers,
 * IP/UDP, CAPWAP reassembly and decode, JSON lines. The one invariant: each
 * case either decodes to serializable lines or stops with PcapFormatError;
 * anything else escaping (RangeError, TypeError, an allocation failure) is a
 * bug. VAP_FUZZ_SCALE multiplies the case count; a failure names its seed.
 */
import { describe, expect, it } from "vitest";
import { controlHeader, encodeControlMessage, encodeDataKeepAlive, fragmentPayload } from "../../agent/capwap/codec/index.js";
import { decodeCapture, type DecodeOptions } from "../../agent/capwap/decode/index.js";
import { type Element, rfc5415Profile } from "../../agent/capwap/profiles/index.js";
import { seededRandom, type Random } from "../../agent/core/index.js";
import { buildIpUdpPacket, LinkType, MAX_RECORD_BYTES, PcapFormatError, pcapBytes, type UdpDatagram } from "../../agent/pcap/index.js";
import { rfc5415Messages, SESSION_ID } from "../capwap/samples.js";
import { AC, AP, AP6, AC6, concat, enhancedPacket, ethernet, interfaceDescription, linuxSll2, loopback, obsoletePacket, sectionHeader, simplePacket } from "./build.js";
import { chunked } from "./support.js";
import { fuzzCases, fuzzTimeout } from "../fuzz/mutate.js";

const CASES = fuzzCases(20_000);
const table = rfc5415Profile.elements;

/** A handful of messages, fragmented small, plus a keep-alive and a DTLS record: ~4 KB. */
const datagrams: UdpDatagram[] = [
  ...["discovery request", "join response", "echo request", "image data response (information)"].flatMap((name, i) => {
    const s = rfc5415Messages().find((m) => m.name === name)!;
    const [src, dst] = s.direction === "ap" ? [AP, AC] : [AC, AP];
    return fragmentPayload(encodeControlMessage(s.message, table), controlHeader(), 160, i + 1).map((payload) => ({ src, dst, payload }));
  }),
  { src: { ...AP, port: 5247 }, dst: { ...AC, port: 5247 }, payload: encodeDataKeepAlive([{ kind: "SessionId", sessionId: SESSION_ID } as Element], table) },
  { src: AP6, dst: AC6, payload: Uint8Array.of(0x01, 0, 0, 0, 22, 0xfe, 0xfd, 0, 0, 0, 0) },
];

const classic = pcapBytes(datagrams.map((datagram, i) => ({ timeMs: 1_706_650_895_000 + i, datagram })));

/** The same datagrams over two pcapng sections (little- then big-endian) and several link types. */
const pcapng = (() => {
  const ips = datagrams.map(buildIpUdpPacket);
  const half = Math.ceil(ips.length / 2);
  const first = ips.slice(0, half).map((ip, i) => (i % 2 ? enhancedPacket(1, BigInt(i) * 1_000_000n, linuxSll2(ip)) : enhancedPacket(0, BigInt(i), ethernet(ip, [[0x8100, 7]]))));
  const second = ips.slice(half).map((ip, i) => (i % 3 === 0 ? simplePacket(loopback(ip, ip[0]! >> 4 === 6 ? 30 : 2, false), false) : i % 3 === 1 ? obsoletePacket(0, BigInt(i), loopback(ip, ip[0]! >> 4 === 6 ? 30 : 2, false), false) : enhancedPacket(0, BigInt(i), loopback(ip, ip[0]! >> 4 === 6 ? 30 : 2, false), false)));
  return concat(
    sectionHeader(true),
    interfaceDescription(LinkType.Ethernet, true, { tsresol: 9 }),
    interfaceDescription(LinkType.LinuxSll2, true),
    ...first,
    sectionHeader(false),
    interfaceDescription(LinkType.Null, false, { tsresol: 0x80 | 20, tsoffset: 5n }),
    ...second,
  );
})();

/** Values that make length fields lie in interesting ways. */
const INTERESTING = [0, 1, 3, 4, 7, 8, 11, 12, 16, 20, 27, 28, 32, 0x7f, 0xff, 0x100, 0xffff, MAX_RECORD_BYTES, MAX_RECORD_BYTES + 1, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff];

function mutate(base: Uint8Array, rnd: Random): Uint8Array {
  let b: Uint8Array = Uint8Array.from(base);
  for (let n = 1 + rnd.int(3); n > 0; n--) {
    const at = rnd.int(b.length + 1);
    switch (rnd.int(6)) {
      case 0: // random bytes
        for (let k = 1 + rnd.int(4); k > 0 && b.length > 0; k--) b[rnd.int(b.length)] = rnd.int(256);
        break;
      case 1: // a lying 32- or 16-bit field, either byte order
      case 2: {
        const v = INTERESTING[rnd.int(INTERESTING.length)]!;
        const view = new DataView(b.buffer, b.byteOffset, b.length);
        const wide = rnd.int(2) === 0;
        if (at + (wide ? 4 : 2) <= b.length) wide ? view.setUint32(at, v >>> 0, rnd.int(2) === 0) : view.setUint16(at, v & 0xffff, rnd.int(2) === 0);
        break;
      }
      case 3: // cut short
        b = b.subarray(0, at);
        break;
      case 4: // a slice removed
        b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rnd.int(64))));
        break;
      case 5: // a slice repeated
        b = concat(b.subarray(0, at), b.subarray(at, at + 1 + rnd.int(64)), b.subarray(at));
        break;
    }
  }
  return b;
}

const OPTIONS: DecodeOptions = { profile: "auto", controlPort: 5246, dataPort: 5247 };

describe(`mutation fuzz of capture decoding (${CASES} cases)`, () => {
  it("the unmutated captures decode without errors", async () => {
    for (const base of [classic, pcapng]) {
      const lines: Record<string, unknown>[] = [];
      const summary = await decodeCapture(chunked(base), OPTIONS, (l) => lines.push(l));
      expect(summary).toEqual({ packets: datagrams.length, capwap: datagrams.length, errors: 0, incomplete: 0 });
      expect(lines.map((l) => l.typeName ?? (l.keepAlive ? "keep-alive" : "dtls"))).toEqual([
        "Discovery Request",
        "Join Response",
        "Echo Request",
        "Image Data Response",
        "keep-alive",
        "dtls",
      ]);
    }
  });

  it(
    "every mutated capture decodes to JSON lines or ends with PcapFormatError, nothing else",
    async () => {
      const outcomes = { complete: 0, formatError: 0, lines: 0, lineErrors: 0 };
      for (let seed = 1; seed <= CASES; seed++) {
        const rnd = seededRandom(seed);
        const input = mutate(seed % 2 ? classic : pcapng, rnd);
        try {
          await decodeCapture(chunked(input, 1 + rnd.int(input.length + 1)), OPTIONS, (line) => {
            const text = JSON.stringify(line);
            outcomes.lines++;
            if (text.includes('"error"')) outcomes.lineErrors++;
          });
          outcomes.complete++;
        } catch (err) {
          if (!(err instanceof PcapFormatError)) throw new Error(`fuzz seed ${seed}: ${(err as Error)?.stack ?? String(err)}`);
          outcomes.formatError++;
        }
      }
      // Both outcomes, and broken CAPWAP inside readable files, must actually have been explored.
      expect(outcomes.complete).toBeGreaterThan(CASES / 10);
      expect(outcomes.formatError).toBeGreaterThan(CASES / 10);
      expect(outcomes.lineErrors).toBeGreaterThan(CASES / 20);
    },
    fuzzTimeout(CASES, 0.2),
  );
});
