/**
 * Shared machinery of the Wireshark golden tests: encode sample messages,
 * run the real tshark, and compare what it decoded with what we meant.
 */
import { describe, expect, it } from "vitest";
import { encodeControlPacket, fragmentPayload, controlHeader, encodeControlMessage, toHex } from "../../agent/capwap/codec/index.js";
import type { Element, Message, VendorProfile } from "../../agent/capwap/profiles/index.js";
import { pcapBytes } from "../../agent/pcap/index.js";
import { fieldValues, findAll, problems, tsharkJson, type TsharkPacket } from "../support/tshark.js";

export interface Sample {
  name: string;
  message: Message;
  direction: "ap" | "ac";
}

export const AP = { address: "192.0.2.10", port: 5264 };
export const AC = { address: "192.0.2.1", port: 5246 };

/** Encode every sample into one capture, fragmenting above `maxPacketSize`. */
export function captureOf(samples: readonly Sample[], profile: VendorProfile, maxPacketSize = 1400): { pcap: Uint8Array; packetsPerSample: number[] } {
  const datagrams: { timeMs: number; datagram: { src: typeof AP; dst: typeof AP; payload: Uint8Array } }[] = [];
  const packetsPerSample: number[] = [];
  samples.forEach((s, i) => {
    const packets =
      maxPacketSize === Infinity
        ? [encodeControlPacket(s.message, profile.elements)]
        : fragmentPayload(encodeControlMessage(s.message, profile.elements), controlHeader(), maxPacketSize, i + 1);
    packetsPerSample.push(packets.length);
    for (const payload of packets) {
      const [src, dst] = s.direction === "ap" ? [AP, AC] : [AC, AP];
      datagrams.push({ timeMs: 1_706_650_895_000 + datagrams.length, datagram: { src, dst, payload } });
    }
  });
  return { pcap: pcapBytes(datagrams), packetsPerSample };
}

/** tshark's per-element objects for a packet, in wire order. */
export function tsharkElements(packet: TsharkPacket): Record<string, unknown>[] {
  const top = findAll(packet.layers, "capwap.message_element")[0] as Record<string, unknown> | undefined;
  if (!top) return [];
  const inner = top["capwap.message_element"];
  if (Array.isArray(inner)) return inner as Record<string, unknown>[];
  return inner ? [inner as Record<string, unknown>] : [];
}

function snake(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

const NTP_UNIX_OFFSET = 2_208_988_800;

/**
 * Does tshark's rendering `theirs` (all values of one field) show our value?
 * tshark prints numbers in decimal or 0x-hex, times as dates, byte strings as
 * colon hex, one value per byte for rate lists, and short byte fields as text.
 */
function sameValue(ours: unknown, theirs: string[]): boolean {
  if (typeof ours === "number") {
    return theirs.some((t) => {
      if (t === String(ours)) return true;
      if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t, 16) === ours;
      const date = Date.parse(t.replace(/\.\d+ UTC$/, " UTC"));
      return !Number.isNaN(date) && date / 1000 === ours - NTP_UNIX_OFFSET;
    });
  }
  if (typeof ours === "string") return theirs.includes(ours);
  if (ours instanceof Uint8Array) {
    const hex = toHex(ours, ":");
    const asNumber = ours.length <= 6 ? String(ours.reduce((n, b) => n * 256 + b, 0)) : undefined;
    const asText = Buffer.from(ours).toString("latin1").replace(/\0+$/, "");
    const perByte = Array.from(ours, (b) => `0x${b.toString(16).padStart(2, "0")}`).join("|");
    return theirs.includes(hex) || theirs.includes(asText) || (asNumber !== undefined && theirs.includes(asNumber)) || theirs.join("|") === perByte;
  }
  return true;
}

/**
 * Where tshark 4.0 itself misreads a field, say how and undo it, so our
 * bytes are still checked against what tshark saw.
 */
const TSHARK_QUIRKS: Record<string, (theirs: string, ours: unknown) => string> = {
  // packet-capwap.c adds the key with length optlen-24 although its offset already
  // skipped the 4-byte TLV header: it shows the key 4 bytes short. Compare the prefix.
  // tshark reads Cisco's LED state and save flag as one 16-bit number.
  "CiscoApLedState.ledState": (theirs) => String(Number(theirs) >> 8),
  "Ieee80211StationSessionKey.key": (theirs, ours) => (toHex(ours as Uint8Array, ":").startsWith(theirs) ? toHex(ours as Uint8Array, ":") : theirs),
};

/** tshark fields that show a whole vendor payload rather than one of its fields. */
const GENERIC_FIELDS = /^capwap\.control\.(message_element\.vsp\.|cisco\.(value|unknown|element_id)$)/;

/**
 * Compare every scalar field of our element with the tshark field of the same
 * name (camelCase ↔ snake_case suffix) when tshark has one. Returns how many
 * fields were cross-checked so callers can insist the comparison did work.
 */
export function crossCheckFields(ours: Element, theirs: Record<string, unknown>): number {
  let checked = 0;
  const leaves = new Map<string, string[]>();
  const collect = (node: unknown) => {
    if (!node || typeof node !== "object") return;
    for (const [k, v] of Object.entries(node)) {
      if (typeof v === "string") leaves.set(k, [...(leaves.get(k) ?? []), v]);
      else if (Array.isArray(v)) v.forEach((x) => (typeof x === "string" ? leaves.set(k, [...(leaves.get(k) ?? []), x]) : collect(x)));
      else collect(v);
    }
  };
  collect(theirs);
  for (const [field, value] of Object.entries(ours)) {
    if (field === "kind" || field === "reserved") continue;
    if (typeof value !== "number" && typeof value !== "string" && !(value instanceof Uint8Array)) continue;
    const suffix = snake(field);
    // Only element-specific fields: the generic type/length/value fields share names with ours.
    const keys = [...leaves.keys()].filter((k) => k.startsWith("capwap.control.") && !GENERIC_FIELDS.test(k));
    const match = keys.find((k) => k.endsWith(`.${suffix}`)) ?? keys.find((k) => k.endsWith(`_${suffix}`));
    if (!match) continue;
    let values = leaves.get(match)!;
    const quirk = TSHARK_QUIRKS[`${ours.kind}.${field}`];
    if (quirk) values = values.map((t) => quirk(t, value));
    expect(sameValue(value, values), `${ours.kind}.${field}: tshark ${match}=${values.join("|")}, ours ${String(value)}`).toBe(true);
    checked++;
  }
  return checked;
}

export { fieldValues, problems, tsharkJson };

export type KeyFields = Partial<Record<Element["kind"], (el: any) => Record<string, string>>>;

export interface GoldenOptions {
  profile: VendorProfile;
  samples: readonly Sample[];
  /** tshark preferences (`-o name:value`). */
  prefs?: Record<string, string>;
  /** Expert messages tshark is known to raise for this profile's real-AP behaviour. */
  allowedExperts?: readonly string[];
  /** Fields the issue names, spelled out so a silent mismatch cannot hide. */
  keyFields: KeyFields;
  /** Minimum number of our fields tshark must have cross-checked in total. */
  minCrossChecked: number;
}

/** Wire type of an element object under `profile`. */
export function elementType(el: Element, profile: VendorProfile): number {
  if (el.kind === "Unknown") return el.type;
  if (el.kind === "VendorSpecific") return 37;
  return profile.elements.byKind(el.kind)!.type;
}

/**
 * One capture of all samples (tshark starts once), fragmented at 512 bytes so
 * larger messages travel in several fragments that tshark must reassemble;
 * then, per sample: no problem, same message type and sequence number, same
 * element types in order, vendor ids/element ids, key fields, and every field
 * tshark decodes under the same name.
 */
export function describeGolden(title: string, o: GoldenOptions): void {
  describe(title, () => {
    const { pcap, packetsPerSample } = captureOf(o.samples, o.profile, 512);
    const packets = tsharkJson(pcap, o.prefs);
    // With reassembly on, the message is decoded in the last fragment of each sample.
    const lastPacketOf: number[] = [];
    packetsPerSample.reduce((at, n) => (lastPacketOf.push(at + n - 1), at + n), 0);

    it("tshark sees one packet per fragment we sent", () => {
      expect(packets.length).toBe(packetsPerSample.reduce((a, b) => a + b, 0));
      expect(Math.max(...packetsPerSample)).toBeGreaterThan(1);
    });

    for (const [i, sample] of o.samples.entries()) {
      it(`${sample.name}: tshark names the same message and elements with no error`, () => {
        const packet = packets[lastPacketOf[i]!]!;
        expect(problems(packet, o.allowedExperts)).toEqual([]);
        expect(fieldValues(packet.layers, "capwap.control.header.message_type")).toEqual([String(sample.message.type)]);
        expect(fieldValues(packet.layers, "capwap.control.header.sequence_number")).toEqual([String(sample.message.seq)]);
        const theirs = tsharkElements(packet);
        expect(theirs.map((e) => e["capwap.message_element.type"])).toEqual(sample.message.elements.map((e) => String(elementType(e, o.profile))));
        for (const [j, el] of sample.message.elements.entries()) {
          const spec = o.profile.elements.byKind(el.kind);
          if (spec?.vendorId !== undefined) {
            expect(fieldValues(theirs[j], "capwap.control.message_element.vsp.vendor_identifier")).toEqual([String(spec.vendorId)]);
            expect(fieldValues(theirs[j], "capwap.control.message_element.vsp.vendor_element_id")).toEqual([String(spec.vendorElementId)]);
          }
          const key = o.keyFields[el.kind]?.(el) ?? {};
          for (const [field, value] of Object.entries(key)) {
            expect(fieldValues(theirs[j], field), `${sample.name} ${el.kind} ${field}`).toContain(value);
          }
          crossCheckFields(el, theirs[j]!);
        }
      });
    }

    it("cross-checks a substantial number of decoded fields against tshark", () => {
      let checked = 0;
      for (const [i, sample] of o.samples.entries()) {
        const theirs = tsharkElements(packets[lastPacketOf[i]!]!);
        sample.message.elements.forEach((el, j) => (checked += crossCheckFields(el, theirs[j]!)));
      }
      expect(checked).toBeGreaterThan(o.minCrossChecked);
    });
  });
}
