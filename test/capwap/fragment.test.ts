import { describe, expect, it } from "vitest";
import { CapwapDecodeError, controlHeader, decodeControlMessage, decodePacket, encodeControlMessage, fragmentPayload, headerLength, Reassembler } from "../../agent/capwap/codec/index.js";
import { rfc5415Profile, type Element } from "../../agent/capwap/profiles/index.js";
import { seededRandom } from "../../agent/core/index.js";
import { rfc5415Messages } from "./samples.js";

const table = rfc5415Profile.elements;
const configStatus = rfc5415Messages().find((s) => s.name === "configuration status request")!.message;
const payload = encodeControlMessage(configStatus, table);

function fragments(maxPacketSize = 128, fragmentId = 42): { header: ReturnType<typeof decodePacket>["header"]; data: Uint8Array }[] {
  return fragmentPayload(payload, controlHeader(), maxPacketSize, fragmentId).map((p) => {
    const d = decodePacket(p);
    return { header: d.header, data: d.payload };
  });
}

const options = { timeoutMs: 5_000, maxBufferedBytes: 64 * 1024 };

describe("fragmentation (RFC 5415 §3.4)", () => {
  it("splits above the packet size with F/L bits, one id and 8-byte offsets", () => {
    const packets = fragmentPayload(payload, controlHeader(), 128, 42);
    expect(packets.length).toBe(Math.ceil(payload.length / 120));
    for (const [i, p] of packets.entries()) {
      expect(p.length).toBeLessThanOrEqual(128);
      const { header } = decodePacket(p);
      expect(header).toMatchObject({ f: true, l: i === packets.length - 1, fragmentId: 42, fragmentOffset: i * 15 });
    }
  });

  it("sends a message that fits unfragmented", () => {
    const packets = fragmentPayload(payload, controlHeader(), 1400, 42);
    expect(packets).toHaveLength(1);
    expect(decodePacket(packets[0]!).header).toMatchObject({ f: false, l: false, fragmentId: 0 });
  });

  it("accepts any payload whose last fragment starts within the 13-bit offset range, and nothing beyond", () => {
    // 1000-byte pieces: the last may start at 65000 (offset 8125 ≤ 0x1fff), so 66000 bytes fit;
    // one byte more puts a fragment at 66000 (offset 8250), which the field cannot carry.
    const maxPacketSize = headerLength(controlHeader()) + 1000;
    const big = Uint8Array.from({ length: 66_001 }, (_, i) => i & 0xff);
    const packets = fragmentPayload(big.subarray(0, 66_000), controlHeader(), maxPacketSize, 3);
    expect(packets).toHaveLength(66);
    const last = decodePacket(packets.at(-1)!).header;
    expect(last).toMatchObject({ l: true, fragmentOffset: 65_000 / 8 });
    const r = new Reassembler({ timeoutMs: 5_000, maxBufferedBytes: 1 << 20 });
    const whole = packets.map((p) => decodePacket(p)).map((d) => r.push("ap", d.header, d.payload, 0)).find(Boolean);
    expect(whole?.payload).toEqual(big.subarray(0, 66_000));
    expect(() => fragmentPayload(big, controlHeader(), maxPacketSize, 3)).toThrow(/exceeds the fragment offset range/);
    // 8-byte pieces: the last may start at 0x1fff * 8, so 65536 bytes is the most.
    expect(fragmentPayload(big.subarray(0, 65_536), controlHeader(), headerLength(controlHeader()) + 8, 4)).toHaveLength(8192);
    expect(() => fragmentPayload(big.subarray(0, 65_537), controlHeader(), headerLength(controlHeader()) + 8, 4)).toThrow(/fragment offset range/);
  });

  it("reassembles in order, out of order and with duplicates", () => {
    const random = seededRandom(7);
    for (let round = 0; round < 50; round++) {
      const frags = fragments();
      const shuffled = [...frags, ...frags.filter(() => random.next() < 0.3)].sort(() => random.next() - 0.5);
      const r = new Reassembler(options);
      const done = shuffled.map((f) => r.push("10.0.0.2:5246", f.header, f.data, 0)).filter(Boolean);
      // Duplicates arriving after completion may rebuild the message a second time;
      // the control layer answers a repeated request from its response cache.
      expect(done.length).toBeGreaterThanOrEqual(1);
      for (const d of done) expect(decodeControlMessage<Element>(d!.payload, table)).toEqual(configStatus);
    }
  });

  it("keeps sets from different sources and ids apart", () => {
    const r = new Reassembler(options);
    const a = fragments(128, 1);
    const b = fragments(128, 1);
    const out = [];
    for (let i = 0; i < a.length; i++) {
      out.push(r.push("ap-a", a[i]!.header, a[i]!.data, 0));
      out.push(r.push("ap-b", b[i]!.header, b[i]!.data, 0));
    }
    expect(out.filter(Boolean)).toHaveLength(2);
  });

  it("drops incomplete sets after the timeout", () => {
    const r = new Reassembler(options);
    const frags = fragments();
    r.push("ap", frags[0]!.header, frags[0]!.data, 0);
    expect(r.pendingSets).toBe(1);
    r.expire(4_999);
    expect(r.pendingSets).toBe(1);
    r.expire(5_000);
    expect(r.pendingSets).toBe(0);
    expect(r.bufferedBytes).toBe(0);
    // The rest arriving late cannot complete the message.
    expect(frags.slice(1).map((f) => r.push("ap", f.header, f.data, 5_001)).filter(Boolean)).toEqual([]);
  });

  it("caps buffered bytes by evicting the oldest incomplete sets", () => {
    const r = new Reassembler({ timeoutMs: 60_000, maxBufferedBytes: 1_000 });
    for (let id = 0; id < 100; id++) {
      const [first] = fragments(128, id);
      r.push("ap", first!.header, first!.data, id);
      expect(r.bufferedBytes).toBeLessThanOrEqual(1_000);
    }
    expect(r.stats.evicted).toBeGreaterThan(80);
  });

  it("treats a contradicting fragment as the start of a new message with a reused id", () => {
    const r = new Reassembler(options);
    const first = fragments(128, 9);
    const other = fragmentPayload(encodeControlMessage(rfc5415Messages()[0]!.message, table), controlHeader(), 128, 9).map((p) => decodePacket(p));
    r.push("ap", first[0]!.header, first[0]!.data, 0);
    const done = other.map((f) => r.push("ap", f.header, f.payload, 1)).filter(Boolean);
    expect(r.stats.restarted).toBe(1);
    expect(done).toHaveLength(1);
    expect(decodeControlMessage<Element>(done[0]!.payload, table)).toEqual(rfc5415Messages()[0]!.message);
  });

  it("rejects fragments that can never be valid", () => {
    const r = new Reassembler(options);
    const h = controlHeader({ f: true, fragmentId: 1 });
    expect(() => r.push("ap", h, new Uint8Array(7), 0)).toThrow(CapwapDecodeError);
    expect(() => r.push("ap", h, new Uint8Array(0), 0)).toThrow(/empty fragment/);
    expect(() => r.push("ap", { ...h, l: true, fragmentOffset: 0x1fff }, new Uint8Array(0x10000), 0)).toThrow(/beyond any CAPWAP message/);
  });
});
