import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DtlsContext, DEFAULT_DTLS_CIPHERS, DEFAULT_DTLS10_CIPHERS } from "../../agent/capwap/dtls/index.js";
import { toOpensslCipherList } from "../../agent/capwap/dtls/context.js";
import { addon } from "../../agent/capwap/dtls/native.js";
import { ConfigError } from "../../agent/core/index.js";
import { labPki } from "./support.js";

describe("DtlsContext", () => {
  const pki = labPki("ecdsa");

  it("offers RFC 5415's mandatory suite and the ECDHE AES-GCM suites by default", () => {
    const ctx = new DtlsContext({ role: "client", cert: pki.ap.cert, key: pki.ap.key, ca: pki.ca.cert });
    const suites = ctx.ciphers();
    for (const s of ["AES128-SHA", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", "PSK-AES128-CBC-SHA"]) {
      expect(suites).toContain(s);
    }
    expect(DEFAULT_DTLS_CIPHERS.split(":")[0]).toBe("ECDHE-ECDSA-AES128-GCM-SHA256");
  });

  it("adds the ECDHE CBC suites DTLS 1.0 controllers negotiate only when DTLS 1.0 is allowed", () => {
    const dtls10 = ["ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA", "AES128-SHA", "DHE-RSA-AES128-SHA"];
    const legacy = new DtlsContext({ role: "client", cert: pki.ap.cert, key: pki.ap.key, ca: pki.ca.cert, minVersion: "DTLSv1" }).ciphers();
    for (const s of dtls10) expect(legacy).toContain(s);
    const modern = new DtlsContext({ role: "client", cert: pki.ap.cert, key: pki.ap.key, ca: pki.ca.cert }).ciphers();
    expect(modern).not.toContain("ECDHE-ECDSA-AES128-SHA");
    expect(modern).not.toContain("ECDHE-RSA-AES128-SHA");
    expect(DEFAULT_DTLS10_CIPHERS.split(":").filter((s) => !DEFAULT_DTLS_CIPHERS.split(":").includes(s))).toEqual(["ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA"]);
  });

  it("translates IANA suite names, which OpenSSL 3.0 cipher lists reject", () => {
    expect(toOpensslCipherList("TLS_RSA_WITH_AES_128_CBC_SHA:!TLS_PSK_WITH_AES_128_CBC_SHA,ECDHE-RSA-AES128-GCM-SHA256")).toBe(
      "AES128-SHA:!PSK-AES128-CBC-SHA:ECDHE-RSA-AES128-GCM-SHA256",
    );
    const ctx = new DtlsContext({ role: "client", ca: pki.ca.cert, ciphers: "TLS_RSA_WITH_AES_128_CBC_SHA" });
    expect(ctx.ciphers().filter((c) => !c.startsWith("TLS_"))).toEqual(["AES128-SHA"]);
    expect(() => toOpensslCipherList("TLS_RSA_WITH_NOTHING_SHA")).toThrow(ConfigError);
  });

  it("refuses configurations that cannot work, with OpenSSL's reason", () => {
    expect(() => new DtlsContext({ role: "client" })).toThrow(/trusted CA set/);
    expect(() => new DtlsContext({ role: "server", ca: pki.ca.cert })).toThrow(/certificate or a PSK/);
    expect(() => new DtlsContext({ role: "client", ca: pki.ca.cert, cert: pki.ap.cert })).toThrow(/cert and key go together/);
    expect(() => new DtlsContext({ role: "client", ca: "not a pem" })).toThrow(/no PEM certificate/);
    const otherKey = labPki("rsa").ap.key;
    expect(() => new DtlsContext({ role: "client", ca: pki.ca.cert, cert: pki.ap.cert, key: otherKey })).toThrow(
      /private key does not match the certificate/,
    );
    expect(() => new DtlsContext({ role: "client", ca: pki.ca.cert, ciphers: "NOTHING-AT-ALL" })).toThrow(/cipher list: no cipher match/);
    expect(() => new DtlsContext({ role: "client", ca: pki.ca.cert, pinnedFingerprint: "abcd" })).toThrow(/not a SHA-256 digest/);
    expect(() => new DtlsContext({ role: "server", psk: { identity: "ap", key: new Uint8Array(16) } })).toThrow(/wrong shape/);
  });

  it("needs no CA for a PSK-only context", () => {
    const psk = new DtlsContext({ role: "client", psk: { identity: "ap1", key: new Uint8Array(16) } });
    expect(psk.role).toBe("client");
    const server = new DtlsContext({ role: "server", psk: { hint: "vap", keys: new Map([["ap1", new Uint8Array(16)]]) } });
    expect(server.role).toBe("server");
  });

  it("never builds a context that would ignore a pinned fingerprint: without peer verification, or with a PSK", () => {
    const pin = new X509Certificate(pki.controller.cert).fingerprint256;
    const psk = { identity: "ap1", key: new Uint8Array(16) };
    expect(() => new DtlsContext({ role: "client", ca: pki.ca.cert, verifyPeer: false, pinnedFingerprint: pin })).toThrow(/pinnedFingerprint needs peer verification/);
    expect(() => new DtlsContext({ role: "client", psk, pinnedFingerprint: pin })).toThrow(/pinnedFingerprint needs peer verification/);
    expect(() => new DtlsContext({ role: "client", cert: pki.ap.cert, key: pki.ap.key, ca: pki.ca.cert, psk, pinnedFingerprint: pin })).toThrow(/cannot go with a PSK/);
    expect(() => new DtlsContext({ role: "server", cert: pki.controller.cert, key: pki.controller.key, verifyPeer: false, pinnedFingerprint: pin })).toThrow(ConfigError);
    expect(new DtlsContext({ role: "client", ca: pki.ca.cert, pinnedFingerprint: pin }).role).toBe("client");
    // The addon enforces the same rule for any caller.
    const digest = Uint8Array.from(Buffer.from(pin.replace(/:/g, ""), "hex"));
    expect(() => new addon.Context({ server: false, ca: pki.ca.cert, pin: digest, verifyPeer: false })).toThrow(/pinned fingerprint needs verifyPeer and no PSK/);
    expect(() => new addon.Context({ server: false, ca: pki.ca.cert, pin: digest, verifyPeer: true, pskIdentity: "ap1", pskKey: new Uint8Array(16) })).toThrow(/needs verifyPeer and no PSK/);
    expect(() => new addon.Context({ server: true, cert: pki.controller.cert, key: pki.controller.key, ca: pki.ca.cert, pin: digest, verifyPeer: true, pskIdentities: [], pskKeys: [] })).toThrow(/needs verifyPeer and no PSK/);
  });

  it("the addon refuses a server PSK table it cannot read with a clear error, never reading what is not there", () => {
    const native = (o: Record<string, unknown>) => () => new addon.Context({ server: true, ...o } as never);
    const key = new Uint8Array(16);
    expect(native({ pskIdentities: ["ap1"] })).toThrow(/pskIdentities and pskKeys must both be arrays/);
    expect(native({ pskIdentities: ["ap1"], pskKeys: key })).toThrow(/must both be arrays/);
    expect(native({ pskIdentities: ["ap1", "ap2"], pskKeys: [key] })).toThrow(/pskIdentities has 2 entries and pskKeys 1: one key per identity/);
    expect(native({ pskIdentities: [7], pskKeys: [key] })).toThrow(/pskIdentities\[0\] must be a string/);
    expect(native({ pskIdentities: ["ap1", "ap2"], pskKeys: [key, "secret"] })).toThrow(/pskKeys\[1\] must be a Uint8Array/);
    expect(native({ pskIdentities: ["ap1"], pskKeys: [new Uint16Array(8)] })).toThrow(/pskKeys\[0\] must be a Uint8Array/);
    expect(native({ pskIdentities: ["ap1"], pskKeys: [key] })()).toBeDefined();
  });
});
