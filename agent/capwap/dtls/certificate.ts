import { ConfigError } from "../../core/index.js";
import { addon } from "./native.js";

/** What to put in an X.509 v3 certificate; the caller decides the profile. */
export interface CertificateRequest {
  /** Subject RDNs in order, e.g. [["O", "vap lab"], ["CN", "C9120AXI-188b45005ee8"]]. */
  subject: [field: string, value: string][];
  /** The subject's public key, PEM (SPKI). */
  publicKey: string;
  /** Signer: its private key (PEM), and its certificate unless self-signed. */
  issuer: { key: string; cert?: string };
  /** Positive serial number, big-endian, at most 20 bytes (RFC 5280 §4.1.2.2). */
  serial: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** OpenSSL v3 extension config, e.g. [["basicConstraints", "critical,CA:TRUE"]]. */
  extensions: [name: string, value: string][];
}

/**
 * Issue a certificate (SHA-256 signature) with the OpenSSL inside Node, so
 * lab X.509 material can be made where no `openssl` binary exists.
 */
export function signCertificate(req: CertificateRequest): string {
  try {
    return addon.signCertificate({
      subject: req.subject,
      publicKey: req.publicKey,
      issuerKey: req.issuer.key,
      ...(req.issuer.cert !== undefined ? { issuerCert: req.issuer.cert } : {}),
      serial: req.serial,
      notBefore: Math.floor(req.notBefore.getTime() / 1000),
      notAfter: Math.floor(req.notAfter.getTime() / 1000),
      extensions: req.extensions,
    });
  } catch (err) {
    throw new ConfigError(`certificate for ${req.subject.map(([k, v]) => `${k}=${v}`).join(",")}: ${(err as Error).message}`, { cause: err });
  }
}
