import { describe, expect, it } from "vitest";
import {
  CapwapDecodeError,
  type ControlMessage,
  controlHeader,
  decodeControlMessage,
  decodeDataPacket,
  decodePacket,
  encodeControlMessage,
  encodeControlPacket,
  encodeDataKeepAlive,
  fragmentPayload,
  Reader,
  Reassembler,
  readElements,
} from "../../agent/capwap/codec/index.js";
import { profiles, type Element, type VendorProfile } from "../../agent/capwap/profiles/index.js";
import { seededRandom } from "../../agent/core/index.js";
import { ciscoMessages, rfc5415Messages, SESSION_ID } from "../capwap/samples.js";
import { fuzzCases, fuzzTimeout, mutate } from "./mutate.js";

/** Offsets of every 16-bit length field in a valid unfragmented control packet. */
function lengthFieldsOf(packet: Uint8Array, profile: VendorProfile): number[] {
  const { payloadOffset } = decodePacket(packet);
  const fields = [payloadOffset + 5];
  const r = new Reader(packet, payloadOffset + 8);
  while (r.pos < r.end) {
    const start = r.pos;
    fields.push(start + 2);
    readElements(new Reader(packet, start, start + 4 + ((packet[start + 2]! << 8) | packet[start + 3]!)), profile.elements);
    r.pos = start + 4 + ((packet[start + 2]! << 8) | packet[start + 3]!);
  }
  return fields;
}

interface Outcome {
  decoded: number;
  rejected: number;
  /** Elements of decoded messages kept raw because their bodies misfit. */
  keptRaw: number;
}

/** The one element-level error that still fails a message: a TLV length past the message's end. */
const ELEMENT_FRAMING = /^element length \d+ exceeds the \d+ bytes left$/;
const NOTE = /^[^:]+: .+ at byte \d+$/;

/**
 * The invariant: a mutated packet decodes, or fails with CapwapDecodeError —
 * nothing else escapes — and only broken framing fails it (the header, the
 * control header, an element's type and length); an element body that
 * misfits its layout is kept raw with a note. Whatever decodes re-encodes to
 * the same bytes (RFC profile), or at least to a fixed point (Cisco's
 * NUL-padded strings drop what follows the NUL).
 */
function decodeOrReject(bytes: Uint8Array, profile: VendorProfile, outcome: Outcome): void {
  let message: ControlMessage<Element>;
  let payload: Uint8Array;
  try {
    const packet = decodePacket(bytes);
    payload = packet.payload;
    message = decodeControlMessage<Element>(payload, profile.elements, packet.payloadOffset);
  } catch (err) {
    if (!(err instanceof CapwapDecodeError)) throw err;
    if (err.elementType !== undefined && !ELEMENT_FRAMING.test(err.reason)) expect.fail(`a misfit body failed the message: ${err.message}`);
    outcome.rejected++;
    return;
  }
  outcome.decoded++;
  for (const el of message.elements) {
    if (!("note" in el) || el.note === undefined) continue;
    outcome.keptRaw++;
    if (!NOTE.test(el.note)) expect(el.note).toMatch(NOTE);
  }
  const again = encodeControlMessage(message, profile.elements);
  const expected = profile.name === "rfc5415" ? payload : encodeControlMessage(decodeControlMessage(again, profile.elements), profile.elements);
  if (Buffer.compare(again, expected) !== 0) expect(Buffer.from(again).toString("hex")).toBe(Buffer.from(expected).toString("hex"));
}

describe("fuzz: seeded mutations of every golden message", () => {
  const cases = fuzzCases(100_000);

  it.each([
    ["rfc5415", rfc5415Messages],
    ["cisco", ciscoMessages],
  ] as const)(`%s: ${cases} mutated control packets decode (misfit bodies kept raw) or give CapwapDecodeError for broken framing`, (name, messages) => {
    const profile = profiles[name];
    const corpus = messages().map((s) => {
      const packet = encodeControlPacket(s.message, profile.elements);
      return { packet, lengths: lengthFieldsOf(packet, profile) };
    });
    const random = seededRandom(0x5eed);
    const outcome: Outcome = { decoded: 0, rejected: 0, keptRaw: 0 };
    const started = performance.now();
    for (let i = 0; i < cases; i++) {
      const { packet, lengths } = corpus[i % corpus.length]!;
      decodeOrReject(mutate(packet, lengths, random), profile, outcome);
    }
    const elapsed = performance.now() - started;
    // Every outcome must be common, or the mutations are not reaching the decoder.
    expect(outcome.rejected).toBeGreaterThan(cases * 0.2);
    expect(outcome.decoded).toBeGreaterThan(cases * 0.05);
    expect(outcome.keptRaw).toBeGreaterThan(cases * 0.01);
    // Bounded time: well under 0.2 ms per case on average.
    expect(elapsed / cases).toBeLessThan(0.2);
  }, fuzzTimeout(cases, 0.02));

  it("mutated fragments never break the reassembler's bookkeeping", () => {
    const profile = profiles.rfc5415;
    const random = seededRandom(99);
    const reassembler = new Reassembler({ timeoutMs: 1_000, maxBufferedBytes: 32 * 1024 });
    const big = rfc5415Messages().find((s) => s.name === "configuration status request")!.message;
    const packets = fragmentPayload(encodeControlMessage(big, profile.elements), controlHeader(), 96, 5);
    const n = fuzzCases(10_000);
    for (let i = 0; i < n; i++) {
      const bytes = mutate(packets[random.int(packets.length)]!, [], random);
      try {
        const { header, payload } = decodePacket(bytes);
        if (!header.f) continue;
        const done = reassembler.push(`ap${random.int(4)}`, header, payload, i);
        if (done) {
          try {
            decodeControlMessage(done.payload, profile.elements);
          } catch (err) {
            if (!(err instanceof CapwapDecodeError)) throw err;
          }
        }
      } catch (err) {
        if (!(err instanceof CapwapDecodeError)) throw err;
      }
      if (reassembler.bufferedBytes > 32 * 1024 || reassembler.bufferedBytes < 0) expect.fail(`buffered ${reassembler.bufferedBytes} bytes`);
    }
  }, fuzzTimeout(fuzzCases(10_000), 0.05));

  it("mutated data-channel keep-alives decode or give CapwapDecodeError", () => {
    const profile = profiles.rfc5415;
    const keepAlive = encodeDataKeepAlive([{ kind: "SessionId", sessionId: SESSION_ID }], profile.elements);
    const random = seededRandom(3);
    for (let i = 0, n = fuzzCases(20_000); i < n; i++) {
      try {
        decodeDataPacket(mutate(keepAlive, [8, 12], random), profile.elements);
      } catch (err) {
        if (!(err instanceof CapwapDecodeError)) throw err;
      }
    }
  }, fuzzTimeout(fuzzCases(20_000), 0.02));
});
