/**
 * Seeded fuzz of the IEEE 802.11 binding's message elements (RFC 5416 §6,
 * types 1024–1048): random and mutated bodies, each inside a well-framed
 * control message (the TLV and message lengths right). The codec is liberal:
 * only framing fails a message, so every case decodes — the element typed,
 * or kept raw with a note — and nothing but CapwapDecodeError may ever
 * escape. A decoded element re-encodes to the bytes it came from.
 *
 * The data channel's 802.11 frames (native, T bit) are not decoded: the
 * codec hands them on as bytes (data.ts), so there is no frame parser here
 * to fuzz; data-channel keep-alives are in capwap.test.ts.
 */
import { describe, expect, it } from "vitest";
import { decodeControlMessage, encodeControlMessage, ieee80211Elements, MessageType } from "../../agent/capwap/codec/index.js";
import { type Element, profiles } from "../../agent/capwap/profiles/index.js";
import { seededRandom, type Random } from "../../agent/core/index.js";
import { rfc5415Messages } from "../capwap/samples.js";
import { fuzzCases, fuzzTimeout, mutate } from "./mutate.js";

const table = profiles.rfc5415.elements;
const EMPTY = encodeControlMessage({ type: MessageType.ConfigurationUpdateRequest, seq: 1, elements: [] }, table);
/** The control header's Msg Element Length (RFC 5415 §4.5.1), past type and sequence number. */
const MESSAGE_LENGTH_AT = 5;
const NOTE = /^IEEE 802\.11 [^:]+: .+ at byte \d+$/;

/** A control message carrying one element of `type` with `body`, every length right. */
function framed(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(EMPTY.length + 4 + body.length);
  out.set(EMPTY);
  const view = new DataView(out.buffer);
  view.setUint16(MESSAGE_LENGTH_AT, view.getUint16(MESSAGE_LENGTH_AT) + 4 + body.length);
  view.setUint16(EMPTY.length, type);
  view.setUint16(EMPTY.length + 2, body.length);
  out.set(body, EMPTY.length + 4);
  return out;
}

const randomBytes = (random: Random, n: number) => Uint8Array.from({ length: n }, () => random.int(256));

/** Every 802.11 element of the golden messages, as the body it encodes to: the seeds the mutations start from. */
function goldenBodies(): Map<number, Uint8Array[]> {
  const bodies = new Map<number, Uint8Array[]>();
  for (const { message } of rfc5415Messages()) {
    for (const el of message.elements) {
      const type = table.byKind(el.kind)?.type;
      if (type === undefined || type < 1024 || type > 1048) continue;
      const encoded = encodeControlMessage({ type: MessageType.ConfigurationUpdateRequest, seq: 1, elements: [el] }, table);
      bodies.set(type, [...(bodies.get(type) ?? []), encoded.subarray(EMPTY.length + 4)]);
    }
  }
  return bodies;
}

describe("IEEE 802.11 binding elements under mutation", () => {
  it("every body decodes typed or raw with a note, and re-encodes to its own bytes", () => {
    const cases = fuzzCases(20_000);
    const random = seededRandom(80211);
    const golden = goldenBodies();
    const targets = ieee80211Elements.map((def) => ({ type: def.type, name: def.kind, seeds: golden.get(def.type) ?? [] }));
    // The golden messages hold every element of the binding.
    expect(targets.filter((t) => t.seeds.length === 0).map((t) => t.name)).toEqual([]);
    const outcomes = { typed: 0, raw: 0 };
    const typedByName = new Map<string, number>();
    for (let n = 0; n < cases; n++) {
      const { type, name, seeds } = targets[n % targets.length]!;
      // Mostly a golden body mutated (now and then left whole); the rest random bytes of any length.
      const roll = random.next();
      const seed = seeds[random.int(seeds.length)]!;
      const body = roll < 0.1 ? seed : roll < 0.8 && seed.length > 0 ? mutate(seed, [], random) : randomBytes(random, random.int(48));
      const message = framed(type, body);
      let element: Element;
      try {
        const decoded = decodeControlMessage<Element>(message, table);
        expect(decoded.elements).toHaveLength(1);
        element = decoded.elements[0]!;
      } catch (err) {
        // Well framed: not even CapwapDecodeError may fail it.
        throw new Error(`case ${n} (${name}, body ${Buffer.from(body).toString("hex")}): ${(err as Error).stack}`);
      }
      if (element.kind === name) {
        outcomes.typed++;
        typedByName.set(name, (typedByName.get(name) ?? 0) + 1);
      } else {
        outcomes.raw++;
        if (element.kind !== "Unknown" || !("note" in element) || !NOTE.test(element.note ?? "")) expect.fail(`case ${n} (${name}): kept raw without a note: ${JSON.stringify(element)}`);
      }
      const again = encodeControlMessage({ type: MessageType.ConfigurationUpdateRequest, seq: 1, elements: [element] }, table);
      if (Buffer.compare(again, message) !== 0) expect.fail(`case ${n} (${name}, body ${Buffer.from(body).toString("hex")}): re-encoded as ${Buffer.from(again).toString("hex")}`);
    }
    console.log(`ieee80211 elements fuzz: ${cases} cases`, JSON.stringify(outcomes));
    // Every element's typed decoder was reached, and so was the raw path.
    expect([...typedByName.keys()].sort()).toEqual(ieee80211Elements.map((d) => d.kind).sort());
    expect(outcomes.raw).toBeGreaterThan(cases / 10);
  }, fuzzTimeout(fuzzCases(20_000), 0.05));
});
