/**
 * Signature and certificate refusals: wrong signing key, missing or empty
 * final_hash.sig, missing or damaged certificate, expired and not-yet-valid
 * certificates, an untrusted root, certificates not meant for code signing;
 * and the structure-only policy, which accepts an image signed under an
 * unknown root (saying so) but still refuses tampering.
 */
import { mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCa, issueLeaf, validFor } from "../../agent/pki/index.js";
import { generateImageKeys, issueImageSigner, loadSigner, signerFromPem, type ImageRejectCode } from "../../images/index.js";
import { attempt, packTar, referenceMembers, Sandbox, tempDir, testPki, type RawMember } from "./support.js";

let root: string;
beforeAll(() => {
  root = tempDir("image-signing");
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const DAY = 86_400_000;

/** Refused with `code`, and the sandbox is left empty. */
async function expectRefused(members: RawMember[], code: ImageRejectCode, reason: RegExp, options: Parameters<typeof attempt>[1] = {}) {
  const sandbox = new Sandbox(root, `case-${Math.random().toString(36).slice(2)}`);
  const r = await attempt(await packTar(members), { sandbox, ...options });
  expect(r.error?.code).toBe(code);
  expect(r.error?.message).toMatch(reason);
  expect(sandbox.problems()).toEqual([]);
}

const without = (name: string) => referenceMembers().filter((m) => m.name !== name);
const replacing = (name: string, body: Uint8Array, base = referenceMembers()) => base.map((m) => (m.name === name ? { name, body } : m));

describe("signature and certificate", () => {
  it("accepts the reference image", async () => {
    expect((await attempt(await packTar(referenceMembers()))).result?.signer?.subject).toBe("O=vap lab, CN=vap image signing");
  });

  it("refuses a signature made with another key than the certificate's", async () => {
    const other = testPki("rsa").signer.key;
    await expectRefused(referenceMembers({ key: other }), "IMAGE_SIGNATURE", /^member "final_hash.sig": does not verify with the key of O=vap lab, CN=vap image signing$/);
  });

  it("refuses a missing, empty or garbage final_hash.sig", async () => {
    await expectRefused(without("final_hash.sig"), "IMAGE_SIGNATURE", /^member "final_hash.sig": missing: the image is unsigned$/);
    await expectRefused(replacing("final_hash.sig", new Uint8Array(0)), "IMAGE_SIGNATURE", /is empty/);
    await expectRefused(replacing("final_hash.sig", Buffer.alloc(72, 0x30)), "IMAGE_SIGNATURE", /does not verify/);
  });

  it("refuses a missing, empty, extra-text or non-PEM signing certificate", async () => {
    const pem = testPki().signer.chain;
    await expectRefused(without("signing_cert.pem"), "IMAGE_CERTIFICATE", /^member "signing_cert.pem": missing: no signing certificate$/);
    await expectRefused(replacing("signing_cert.pem", new Uint8Array(0)), "IMAGE_CERTIFICATE", /holds no PEM certificate/);
    await expectRefused(replacing("signing_cert.pem", Buffer.from(`comment\n${pem}`)), "IMAGE_CERTIFICATE", /not canonical PEM/);
    await expectRefused(replacing("signing_cert.pem", Buffer.from(pem.replace(/\n/g, "\r\n"))), "IMAGE_CERTIFICATE", /holds no PEM certificate|not canonical/);
  });

  it("refuses an expired or not yet valid signing certificate, and checks validity at the time asked", async () => {
    const pki = testPki();
    const expired = issueImageSigner(pki.root, { type: "ecdsa", validity: validFor(1, new Date(Date.now() - 10 * DAY)) });
    await expectRefused(referenceMembers({ key: signerFromPem(expired.cert, expired.key).key, chain: expired.cert }), "IMAGE_CERTIFICATE", /^member "signing_cert.pem": signing certificate O=vap lab, CN=vap image signing expired 20\d\d-/);
    const future = issueImageSigner(pki.root, { type: "ecdsa", validity: { notBefore: new Date(Date.now() + 5 * DAY), notAfter: new Date(Date.now() + 50 * DAY) } });
    await expectRefused(referenceMembers({ key: signerFromPem(future.cert, future.key).key, chain: future.cert }), "IMAGE_CERTIFICATE", /is not valid before/);
    // The same valid image, judged two years on.
    await expectRefused(referenceMembers(), "IMAGE_CERTIFICATE", /expired/, { now: new Date(Date.now() + 730 * DAY) });
  });

  it("refuses a certificate from an untrusted root; structure-only accepts it and says so", async () => {
    const stranger = issueCa("ecdsa", validFor(30), "someone else's root");
    const leaf = issueImageSigner(stranger, { type: "ecdsa", validity: validFor(30) });
    const members = referenceMembers({ key: signerFromPem(leaf.cert, leaf.key).key, chain: leaf.cert });
    await expectRefused(members, "IMAGE_CERTIFICATE", /^member "signing_cert.pem": O=vap lab, CN=vap image signing does not chain to a trusted root \(issuer O=vap lab, CN=someone else's root\)$/);
    const lenient = await attempt(await packTar(members), { policy: "structure-only", trust: undefined });
    expect(lenient.error).toBeUndefined();
    expect(lenient.result).toMatchObject({ policy: "structure-only", signer: null, family: "ap1g8" });
  });

  it("structure-only still refuses tampered content, bad structure and a missing signature member", async () => {
    const opts = { policy: "structure-only" as const };
    const members = referenceMembers();
    members[1] = { name: "part.bin", body: Buffer.alloc(3000, 0xa4) };
    await expectRefused(members, "IMAGE_TAMPERED", /^member "part.bin": SHA-256 differs from file_hashes$/, opts);
    await expectRefused(replacing("final_hash", Buffer.from(`${"0".repeat(64)}\n`)), "IMAGE_TAMPERED", /final_hash.*differs from SHA-256 of info \+ file_hashes/, opts);
    await expectRefused(replacing("info.ver", Buffer.from("image_family: ap1g4\nws_management_version: 17.12.1.5\ninfo_end:\n")), "IMAGE_TAMPERED", /^member "info.ver": differs from info$/, opts);
    await expectRefused(without("final_hash.sig"), "IMAGE_SIGNATURE", /unsigned/, opts);
  });

  it("refuses certificates not meant for signing images", async () => {
    const pki = testPki();
    // A DTLS client certificate from the lab PKI: extended key usage clientAuth only.
    const dtls = issueLeaf(pki.root, { commonName: "C9120AXI-020000000001", role: "ap", type: "ecdsa", validity: validFor(30) });
    await expectRefused(referenceMembers({ key: signerFromPem(dtls.cert, dtls.key).key, chain: dtls.cert }), "IMAGE_CERTIFICATE", /extended key usage lacks codeSigning/);
    // The root itself as the signer.
    await expectRefused(referenceMembers({ key: signerFromPem(pki.root.cert, pki.root.key).key, chain: pki.root.cert }), "IMAGE_CERTIFICATE", /signing certificate is a CA certificate/);
    // An "intermediate" that is not a CA.
    const notCa = issueImageSigner(pki.root, { type: "ecdsa", validity: validFor(30), commonName: "not a CA" });
    const under = issueImageSigner(notCa, { type: "ecdsa", validity: validFor(30) });
    await expectRefused(referenceMembers({ key: signerFromPem(under.cert, under.key).key, chain: under.cert + notCa.cert }), "IMAGE_CERTIFICATE", /does not chain|is not a CA/);
  });

  it("keygen writes a root and a signer that sign verifiable images, keys 0600; an expired signer from keygen is refused", async () => {
    const dir = join(root, "keygen");
    mkdirSync(dir);
    const files = generateImageKeys(dir, { keyType: "rsa" });
    expect(statSync(files.caKey).mode & 0o777).toBe(0o600);
    expect(statSync(files.signingKey).mode & 0o777).toBe(0o600);
    expect(() => generateImageKeys(dir)).toThrow(/already holds image keys/);
    const signer = loadSigner(dir);
    const trust = readFileSync(files.caCert, "utf8");
    expect((await attempt(await packTar(referenceMembers({ key: signer.key, chain: signer.chain })), { trust })).result?.signer?.root).toBe("O=vap lab, CN=vap image-signing CA");

    const old = join(root, "keygen-expired");
    generateImageKeys(old, { days: 1, start: new Date(Date.now() - 30 * DAY) });
    const expired = loadSigner(old);
    await expectRefused(referenceMembers({ key: expired.key, chain: expired.chain }), "IMAGE_CERTIFICATE", /expired/, { trust: readFileSync(join(old, "image-ca.pem"), "utf8") });
    expect(() => signerFromPem(expired.chain, signer.key.export({ type: "pkcs8", format: "pem" }).toString())).toThrow(/does not match/);
  });
});
