/**
 * Signature and certificate checks for an image: final_hash.sig against the
 * signing certificate's key, and the certificate chain from signing_cert.pem
 * up to a trusted image-signing root.
 *
 * The chain check is ours, over node:crypto's X509Certificate (the OpenSSL
 * inside Node): issuer name and key identifiers plus keyCertSign
 * (`checkIssued`), the issuer's signature (`verify`), each certificate's
 * validity period at the given time, CA:TRUE on every issuer and an
 * extended key usage, when present on the signing certificate, that
 * includes codeSigning. Not checked: path length and name constraints,
 * policies, revocation — an image-signing PKI is a root and one or two
 * levels under it, owned by whoever builds the images.
 */
import { verify, X509Certificate } from "node:crypto";
import { ConfigError } from "../agent/core/index.js";
import { reject } from "./errors.js";
import { SIGNATURE, SIGNING_CERT } from "./format.js";

export type SignaturePolicy = "required" | "structure-only";

export interface ImageSignerInfo {
  /** Subject of the signing certificate, one line ("O=vap lab, CN=vap image signing"). */
  subject: string;
  issuer: string;
  /** SHA-256 fingerprint of the signing certificate, colon-separated hex. */
  fingerprint256: string;
  notAfter: Date;
  /** Subject of the trusted root the chain ends at. */
  root: string;
}

const CODE_SIGNING = "1.3.6.1.5.5.7.3.3";
/** A signing certificate, at most this many intermediates, a root. */
const MAX_INTERMEDIATES = 4;
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n/g;

/** X509Certificate prints names one attribute per line; logs want one line. */
export function oneLineName(name: string): string {
  return name.split("\n").join(", ");
}

function pemBlocks(pem: string): string[] {
  return pem.match(PEM_BLOCK) ?? [];
}

/**
 * The certificates of the signing_cert.pem member, leaf first. The member
 * must be exactly their canonical PEM (64-column base64, "\n" line ends):
 * then every byte of it matters, and a flipped byte can never hide in PEM
 * slack such as unused base64 bits.
 */
export function parseSigningChain(member: Uint8Array): X509Certificate[] {
  const pem = Buffer.from(member).toString("latin1");
  const certs = pemBlocks(pem).map((block) => {
    try {
      const cert = new X509Certificate(block);
      // X509Certificate parses the key lazily; a bad one would throw later, far from here.
      void cert.publicKey;
      return cert;
    } catch {
      return reject("IMAGE_CERTIFICATE", SIGNING_CERT, "holds a certificate that does not parse");
    }
  });
  if (certs.length === 0) reject("IMAGE_CERTIFICATE", SIGNING_CERT, "holds no PEM certificate");
  if (certs.map((c) => c.toString()).join("") !== pem) reject("IMAGE_CERTIFICATE", SIGNING_CERT, "is not canonical PEM certificates only");
  if (certs.length > 1 + MAX_INTERMEDIATES) reject("IMAGE_CERTIFICATE", SIGNING_CERT, `more than ${MAX_INTERMEDIATES} intermediates`);
  return certs;
}

/** Certificates from operator-supplied PEM text (CRLF tolerated): errors are configuration errors. */
export function parsePemCertificates(pem: string, what: string): X509Certificate[] {
  const certs = pemBlocks(pem.replace(/\r\n/g, "\n")).map((block) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new ConfigError(`${what} does not parse: ${(err as Error).message}`);
    }
  });
  if (certs.length === 0) throw new ConfigError(`no PEM certificate in the ${what}`);
  return certs;
}

/** Trusted image-signing roots, each a CA certificate. */
export function parseTrustRoots(pem: string): X509Certificate[] {
  const roots = parsePemCertificates(pem, "trusted roots");
  for (const r of roots) if (!r.ca) throw new ConfigError(`trusted root ${oneLineName(r.subject)} is not a CA certificate`);
  return roots;
}

function checkValidity(cert: X509Certificate, role: string, at: Date): void {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  const who = `${role} ${oneLineName(cert.subject)}`;
  if (at < from) reject("IMAGE_CERTIFICATE", SIGNING_CERT, `${who} is not valid before ${from.toISOString()}`);
  if (at > to) reject("IMAGE_CERTIFICATE", SIGNING_CERT, `${who} expired ${to.toISOString()}`);
}

function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

function checkSigningKey(leaf: X509Certificate): void {
  const key = leaf.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  const ok =
    (key.asymmetricKeyType === "ec" && ["prime256v1", "secp384r1", "secp521r1"].includes(details.namedCurve ?? "")) ||
    (key.asymmetricKeyType === "rsa" && (details.modulusLength ?? 0) >= 2048);
  if (!ok) reject("IMAGE_CERTIFICATE", SIGNING_CERT, `signing key ${key.asymmetricKeyType} ${details.namedCurve ?? details.modulusLength ?? ""} is not ECDSA P-256/384/521 or RSA ≥ 2048`);
  if (leaf.ca) reject("IMAGE_CERTIFICATE", SIGNING_CERT, "signing certificate is a CA certificate");
  const eku = leaf.keyUsage;
  if (eku && !eku.includes(CODE_SIGNING)) reject("IMAGE_CERTIFICATE", SIGNING_CERT, "signing certificate's extended key usage lacks codeSigning");
}

interface SignedParts {
  /** The final_hash member's bytes: what was signed. */
  finalHash: Uint8Array;
  signature: Uint8Array;
  signingCert: Uint8Array;
}

/**
 * Verify final_hash.sig with the signing certificate's key (SHA-256; DER
 * ECDSA or PKCS#1 v1.5 RSA), then the certificate chain at `at` up to one
 * of `roots`.
 */
export function verifySigner(parts: SignedParts, roots: readonly X509Certificate[], at: Date): ImageSignerInfo {
  const chain = parseSigningChain(parts.signingCert);
  const leaf = chain[0]!;
  checkSigningKey(leaf);
  if (parts.signature.length === 0) reject("IMAGE_SIGNATURE", SIGNATURE, "is empty");
  let good = false;
  try {
    good = verify("sha256", parts.finalHash, leaf.publicKey, parts.signature);
  } catch {
    // OpenSSL rejects some malformed signatures by throwing, others by returning false.
  }
  if (!good) reject("IMAGE_SIGNATURE", SIGNATURE, `does not verify with the key of ${oneLineName(leaf.subject)}`);

  let current = leaf;
  const used = new Set<X509Certificate>([leaf]);
  for (;;) {
    checkValidity(current, current === leaf ? "signing certificate" : "intermediate", at);
    const root = roots.find((r) => issuedBy(current, r));
    if (root) {
      checkValidity(root, "trusted root", at);
      return {
        subject: oneLineName(leaf.subject),
        issuer: oneLineName(leaf.issuer),
        fingerprint256: leaf.fingerprint256,
        notAfter: new Date(leaf.validTo),
        root: oneLineName(root.subject),
      };
    }
    const next = chain.find((c) => !used.has(c) && issuedBy(current, c));
    if (!next) reject("IMAGE_CERTIFICATE", SIGNING_CERT, `${oneLineName(current.subject)} does not chain to a trusted root (issuer ${oneLineName(current.issuer)})`);
    if (!next.ca) reject("IMAGE_CERTIFICATE", SIGNING_CERT, `issuer ${oneLineName(next.subject)} is not a CA certificate`);
    used.add(next);
    current = next;
  }
}
