import { describe, expect, it } from "vitest";
import { decodeControlMessage, encodeControlMessage } from "../../agent/capwap/codec/index.js";
import { type Element, type Message, profiles } from "../../agent/capwap/profiles/index.js";
import { captureOf, tsharkJson } from "./golden-support.js";
import { builtMessages, sampleWtp } from "./samples.js";

/** Radio ID 255 names the WTP itself (RFC 5415 §4.6.33), not a radio. */
const WHOLE_WTP = 255;

/** Every Radio ID in the messages, as vap's own decoder reads them off the wire. */
function radioIdsOnWire(messages: readonly Message[], profileName: "rfc5415" | "cisco"): number[] {
  const table = profiles[profileName].elements;
  const decoded = messages.flatMap((m) => decodeControlMessage<Element>(encodeControlMessage(m, table), table).elements);
  return decoded.flatMap((e) => ("radioId" in e && e.radioId !== WHOLE_WTP ? [e.radioId] : []));
}

/** Every radio_id field tshark shows in a capture. */
function tsharkRadioIds(capture: Uint8Array, prefs: Record<string, string>): number[] {
  const out: number[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) {
        if (key.endsWith(".radio_id") && typeof value === "string") out.push(Number(value));
        else walk(value);
      }
    }
  };
  for (const packet of tsharkJson(capture, prefs)) walk(packet.layers);
  return out;
}

describe("Radio IDs: the profile numbers the WTP's slots 0 and 1 on the wire", () => {
  it.each([
    ["rfc5415", [1, 2], { "capwap.draft_8_cisco": "FALSE" }],
    ["cisco", [0, 1], { "capwap.draft_8_cisco": "TRUE" }],
  ] as const)("%s: radio elements of both sides carry %j, and tshark reads the same", (name, ids, prefs) => {
    const profile = profiles[name];
    expect(sampleWtp.radios.map((r) => r.radioId)).toEqual([0, 1]);
    expect(profile.firstRadioId).toBe(ids[0]);
    const samples = builtMessages(profile);
    const seen = radioIdsOnWire(samples.map((s) => s.message), name);
    expect(new Set(seen)).toEqual(new Set(ids));
    const theirs = tsharkRadioIds(captureOf(samples, profile).pcap, prefs);
    expect(theirs.length).toBeGreaterThan(4);
    expect(new Set(theirs)).toEqual(new Set(ids));
  });

  it.each(["rfc5415", "cisco"] as const)("%s: a controller reads the radios back as the slots the WTP numbered", (name) => {
    const profile = profiles[name];
    const join = builtMessages(profile).find((s) => s.name === "built join request")!.message;
    const table = profile.elements;
    const received = decodeControlMessage<Element>(encodeControlMessage(join, table), table);
    expect(profile.radios(received.elements)).toEqual(sampleWtp.radios);
  });
});
