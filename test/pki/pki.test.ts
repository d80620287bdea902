import { tempDir } from "../support/temp.js";
import { execFileSync, spawnSync } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DtlsContext, signCertificate } from "../../agent/capwap/dtls/index.js";
import { ConfigError } from "../../agent/core/index.js";
import { apCommonName, generateKey, issueCa, issueLeaf, parseMac, validFor } from "../../agent/pki/index.js";
import { requirePeer } from "../support/peers.js";
import { vap } from "../support/cli.js";
import { connected, freeUdpPort, OpensslPeer, udpClient, withTimeout } from "../dtls/support.js";

const fresh = () => join(tempDir("pki"), "pki");

describe("vap pki init", () => {
  it("writes a CA, a controller and per-AP certificates that OpenSSL verifies, keys mode 0600", async () => {
    const dir = fresh();
    const r = await vap("pki", "init", dir, "--aps", "3", "--base-mac", "18:8b:45:00:5e:e8");
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(readdirSync(dir).sort()).toEqual(["ap", "ca.key", "ca.pem", "controller.key", "controller.pem"]);
    const aps = ["C9120AXI-188b45005ee8", "C9120AXI-188b45005ee9", "C9120AXI-188b45005eea"];
    expect(readdirSync(join(dir, "ap")).sort()).toEqual(aps.flatMap((n) => [`${n}.key`, `${n}.pem`]));
    for (const key of ["ca.key", "controller.key", ...aps.map((n) => `ap/${n}.key`)]) {
      expect(statSync(join(dir, key)).mode & 0o777).toBe(0o600);
    }
    expect(r.out.split("\n").filter(Boolean)).toHaveLength(4 + 2 * aps.length);

    // The real OpenSSL checks the chains and the purposes.
    const openssl = requirePeer("openssl");
    const verify = (purpose: string, file: string) =>
      execFileSync(openssl, ["verify", "-purpose", purpose, "-CAfile", join(dir, "ca.pem"), join(dir, file)], { encoding: "utf8" });
    expect(verify("sslserver", "controller.pem")).toMatch(/: OK/);
    for (const n of aps) expect(verify("sslclient", `ap/${n}.pem`)).toMatch(/: OK/);

    const ap = new X509Certificate(readFileSync(join(dir, "ap", `${aps[0]}.pem`)));
    expect(ap.subject).toBe(`O=vap lab\nCN=${aps[0]}`);
    expect(ap.issuer).toBe("O=vap lab\nCN=vap lab CA");
    expect(ap.publicKey.asymmetricKeyDetails).toMatchObject({ namedCurve: "prime256v1" });
    expect(ap.checkPrivateKey(createPrivateKey(readFileSync(join(dir, "ap", `${aps[0]}.key`))))).toBe(true);
    const ca = new X509Certificate(readFileSync(join(dir, "ca.pem")));
    expect(ca.ca).toBe(true);
    expect(ap.verify(ca.publicKey)).toBe(true);
  });

  it("makes RSA-2048 material with --rsa", async () => {
    const dir = fresh();
    expect((await vap("pki", "init", dir, "--rsa", "--aps", "1", "--model", "AIR-AP3802I")).code).toBe(0);
    const controller = new X509Certificate(readFileSync(join(dir, "controller.pem")));
    expect(controller.publicKey.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048 });
    expect(readdirSync(join(dir, "ap"))).toContain("AIR-AP3802I-020000000001.pem");
    // keyEncipherment lets TLS_RSA_WITH_AES_128_CBC_SHA encrypt to this key.
    const text = execFileSync(requirePeer("openssl"), ["x509", "-noout", "-ext", "keyUsage", "-in", join(dir, "controller.pem")], {
      encoding: "utf8",
    });
    expect(text).toMatch(/Digital Signature, Key Encipherment/);
  });

  it("--key-type rsa makes RSA-2048 throughout, --key-type ecdsa P-256; an unknown or contradicted type is refused", async () => {
    const rsaDir = fresh();
    expect((await vap("pki", "init", rsaDir, "--key-type", "rsa", "--aps", "1")).code).toBe(0);
    for (const file of ["ca.pem", "controller.pem", "ap/C9120AXI-020000000001.pem"]) {
      expect(new X509Certificate(readFileSync(join(rsaDir, file))).publicKey.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048 });
    }
    const ecdsaDir = fresh();
    expect((await vap("pki", "init", ecdsaDir, "--key-type", "ecdsa", "--aps", "1")).code).toBe(0);
    expect(new X509Certificate(readFileSync(join(ecdsaDir, "controller.pem"))).publicKey.asymmetricKeyDetails).toMatchObject({ namedCurve: "prime256v1" });

    expect(await vap("pki", "init", fresh(), "--key-type", "dsa")).toEqual({ code: 2, out: "", err: 'vap pki init: --key-type: expected ecdsa or rsa, got "dsa"\n' });
    expect(await vap("pki", "init", fresh(), "--rsa", "--key-type", "ecdsa")).toEqual({ code: 2, out: "", err: "vap pki init: --rsa contradicts --key-type ecdsa\n" });
  });

  it("--key-type rsa material joins a DTLS-1.0-only controller (openssl s_server -dtls1) on RFC 5415's mandatory AES128-SHA", async () => {
    const dir = fresh();
    expect((await vap("pki", "init", dir, "--key-type", "rsa", "--aps", "1")).code).toBe(0);
    const port = await freeUdpPort();
    const controller = new OpensslPeer([
      "s_server", "-accept", `127.0.0.1:${port}`, "-naccept", "1", "-dtls1",
      "-cert", join(dir, "controller.pem"), "-key", join(dir, "controller.key"), "-CAfile", join(dir, "ca.pem"),
      "-Verify", "1", "-verify_return_error", "-cipher", "AES128-SHA:@SECLEVEL=0",
    ]);
    try {
      await controller.waitFor(/ACCEPT/);
      const ap = join(dir, "ap", "C9120AXI-020000000001");
      const context = new DtlsContext({
        role: "client",
        cert: readFileSync(`${ap}.pem`, "utf8"),
        key: readFileSync(`${ap}.key`, "utf8"),
        ca: readFileSync(join(dir, "ca.pem"), "utf8"),
        minVersion: "DTLSv1",
      });
      const client = await udpClient(port, { context, framing: "none", retransmitMs: 100 });
      try {
        await withTimeout(connected(client.session), 10_000, "connect");
        expect(client.session.peer).toMatchObject({ version: "DTLSv1", cipherStandardName: "TLS_RSA_WITH_AES_128_CBC_SHA" });
        await controller.waitFor(/CIPHER is AES128-SHA/);
      } finally {
        await client.close();
      }
    } finally {
      await controller.stop();
    }
  });

  it("refuses to overwrite an existing PKI without --force, and bad arguments", async () => {
    const dir = fresh();
    expect((await vap("pki", "init", dir, "--aps", "0")).code).toBe(0);
    const ca = readFileSync(join(dir, "ca.pem"), "utf8");
    const again = await vap("pki", "init", dir);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already holds a PKI/);
    expect(readFileSync(join(dir, "ca.pem"), "utf8")).toBe(ca);
    expect((await vap("pki", "init", dir, "--force", "--aps", "0")).code).toBe(0);
    expect(readFileSync(join(dir, "ca.pem"), "utf8")).not.toBe(ca);

    expect((await vap("pki", "init")).err).toMatch(/usage: vap pki init DIR/);
    expect(await vap("pki", "init", fresh(), "--aps", "many")).toEqual({ code: 2, out: "", err: 'vap pki init: --aps: expected a whole number from 0 to 10000, got "many"\n' });
    expect((await vap("pki", "init", fresh(), "--base-mac", "nope")).err).toMatch(/not a MAC address/);
    expect((await vap("pki", "init", fresh(), "--bogus")).code).toBe(2);
  });

  it("a leaf names its IP addresses in subjectAltName beside its DNS name (an HTTPS server reached as 127.0.0.1)", () => {
    const validity = validFor(1);
    const ca = issueCa("ecdsa", validity);
    const leaf = new X509Certificate(issueLeaf(ca, { commonName: "localhost", role: "controller", type: "ecdsa", validity, ipAddresses: ["127.0.0.1", "::1"] }).cert);
    expect(leaf.subjectAltName).toBe("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
    expect(leaf.checkIP("127.0.0.1")).toBe("127.0.0.1");
    const plain = new X509Certificate(issueLeaf(ca, { commonName: "vap-controller", role: "controller", type: "ecdsa", validity }).cert);
    expect(plain.subjectAltName).toBe("DNS:vap-controller");
  });

  it("an intermediate CA signed by a root issues a leaf that OpenSSL verifies trusting only the root, and issues no further CA", () => {
    const validity = validFor(1);
    const root = issueCa("ecdsa", validity, "vap test root");
    const intermediate = issueCa("ecdsa", validity, "vap test intermediate", root);
    const leaf = issueLeaf(intermediate, { commonName: "localhost", role: "controller", type: "ecdsa", validity, ipAddresses: ["127.0.0.1"] });
    const x509 = new X509Certificate(intermediate.cert);
    expect(x509.ca).toBe(true);
    expect(x509.issuer).toBe("O=vap lab\nCN=vap test root");
    expect(x509.verify(new X509Certificate(root.cert).publicKey)).toBe(true);
    const dir = tempDir("pki-chain");
    const write = (name: string, pem: string) => (writeFileSync(join(dir, name), pem), join(dir, name));
    const verify = (...args: string[]) => spawnSync(requirePeer("openssl"), ["verify", ...args], { encoding: "utf8" });
    const [rootFile, intermediateFile, leafFile] = [write("root.pem", root.cert), write("intermediate.pem", intermediate.cert), write("leaf.pem", leaf.cert)];
    const chained = verify("-CAfile", rootFile, "-untrusted", intermediateFile, leafFile);
    expect(chained.stdout + chained.stderr).toMatch(/leaf\.pem: OK/);
    // Without the intermediate the root alone cannot reach the leaf.
    expect(verify("-CAfile", rootFile, leafFile).status).not.toBe(0);
    // pathlen:0: a CA under the intermediate is refused.
    const sub = issueCa("ecdsa", validity, "vap test sub", intermediate);
    const subLeaf = write("sub-leaf.pem", issueLeaf(sub, { commonName: "x", role: "controller", type: "ecdsa", validity }).cert);
    const tooDeep = verify("-CAfile", rootFile, "-untrusted", write("subchain.pem", intermediate.cert + sub.cert), subLeaf);
    expect(tooDeep.stdout + tooDeep.stderr).toMatch(/path length constraint exceeded/);
  });

  it("names APs after model and base MAC", () => {
    expect(apCommonName("C9120AXI", parseMac("18:8B:45:00:5E:E8"))).toBe("C9120AXI-188b45005ee8");
    expect(apCommonName("C9120AXI", parseMac("188b.4500.5ee8") + 1)).toBe("C9120AXI-188b45005ee9");
  });

  it("signCertificate rejects an issuer key that does not match the issuer certificate", () => {
    const a = generateKey("ecdsa");
    const b = generateKey("ecdsa");
    const now = new Date();
    const base = { subject: [["CN", "x"]] as [string, string][], serial: Uint8Array.of(1), notBefore: now, notAfter: now, extensions: [] };
    const caCert = signCertificate({ ...base, publicKey: a.publicKey, issuer: { key: a.key } });
    expect(() => signCertificate({ ...base, publicKey: b.publicKey, issuer: { key: b.key, cert: caCert } })).toThrow(ConfigError);
    expect(() => signCertificate({ ...base, publicKey: b.publicKey, issuer: { key: a.key }, extensions: [["noSuchExtension", "x"]] })).toThrow(
      /noSuchExtension=x rejected/,
    );
  });
});
