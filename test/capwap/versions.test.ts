import { describe, expect, it } from "vitest";
import { AcInformationType, decodeControlMessage, encodeControlMessage, MessageType } from "../../agent/capwap/codec/index.js";
import { type Element, profiles, type VendorProfile } from "../../agent/capwap/profiles/index.js";
import { seededRandom } from "../../agent/core/index.js";
import { sampleAc, sampleWtp } from "./samples.js";

const ascii = (s: string) => new TextEncoder().encode(s);
/** Cisco's AC Information software type [obs: actube]. */
const CISCO_SOFTWARE = 1;

/**
 * What an AP makes of a Discovery Response whose AC Information software
 * version holds `version`: the profile's own response, with those bytes put
 * in, through the wire codec and back, then the profile's acSummary.
 */
function controllerVersionSeen(profile: VendorProfile, version: Uint8Array): string | undefined {
  const softwareType = profile.name === "cisco" ? CISCO_SOFTWARE : AcInformationType.SoftwareVersion;
  const elements = profile.discoveryResponse(sampleAc, sampleWtp.radios).map((e) =>
    e.kind === "AcDescriptor" ? { ...e, info: e.info.map((i) => (i.type === softwareType ? { ...i, data: version } : i)) } : e,
  );
  const wire = encodeControlMessage({ type: MessageType.DiscoveryResponse, seq: 0, elements }, profile.elements);
  return profile.acSummary(decodeControlMessage<Element>(wire, profile.elements).elements).softwareVersion;
}

/** Control characters, and what a decoder puts for bytes that are not UTF-8. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\ufffd]/;

describe("a controller's software version is bytes: printed readable, compared as bytes", () => {
  it("rfc5415: a binary version prints as 0x and hex, not as control characters", () => {
    const seen = controllerVersionSeen(profiles.rfc5415, Uint8Array.of(0x00, 0x31, 0xff, 0xfe));
    expect(seen).toBe("0x0031fffe");
  });

  it.each([
    ["text", ascii("8.10.130.0"), "8.10.130.0"],
    ["non-ASCII text", ascii("17.9.4 – lab"), "17.9.4 – lab"],
    ["text with a control character", ascii("17.9\n"), "0x31372e390a"],
    ["invalid UTF-8", Uint8Array.of(0x31, 0xc3, 0x28), "0x31c328"],
    // Text that reads like the opaque form is shown opaque too, or it would equal the bytes it names.
    ["text that reads 0x0031fffe", ascii("0x0031fffe"), "0x30783030333166666665"],
    ["nothing", new Uint8Array(0), ""],
  ])("rfc5415: %s", (_name, bytes, shown) => {
    expect(controllerVersionSeen(profiles.rfc5415, bytes)).toBe(shown);
  });

  it.each([
    ["four bytes", Uint8Array.of(17, 9, 4, 27), "17.9.4.27"],
    ["four binary bytes", Uint8Array.of(0x00, 0x31, 0xff, 0xfe), "0.49.255.254"],
    // Not Cisco's 4-byte layout: shown opaque (never dotted), where it used to be ignored.
    ["text where Cisco puts 4 bytes", ascii("17.9.4.27"), "0x31372e392e342e3237"],
    ["three bytes", Uint8Array.of(1, 2, 3), "0x010203"],
  ])("cisco: %s", (_name, bytes, shown) => {
    expect(controllerVersionSeen(profiles.cisco, bytes)).toBe(shown);
  });

  it.each(["rfc5415", "cisco"] as const)("%s: distinct byte strings always give distinct, printable versions", (name) => {
    const random = seededRandom(10);
    const seen = new Map<string, string>();
    const printable = ascii("0123456789.x");
    for (let i = 0; i < 5000; i++) {
      const length = random.int(7);
      // Mostly version-like text, so that text, dotted and opaque forms all get a chance to meet.
      const bytes = Uint8Array.from({ length }, () => (random.next() < 0.8 ? printable[random.int(printable.length)]! : random.int(256)));
      const key = Buffer.from(bytes).toString("hex");
      const shown = controllerVersionSeen(profiles[name], bytes)!;
      expect(shown).not.toMatch(UNPRINTABLE);
      const before = seen.get(shown);
      if (before !== undefined && before !== key) expect.fail(`${before} and ${key} both show as "${shown}"`);
      seen.set(shown, key);
    }
    expect(seen.size).toBeGreaterThan(1000);
  });
});
