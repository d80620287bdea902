/**
 * Image-signing keys: a root CA that APs trust for images, and a signing
 * certificate it issues (extended key usage codeSigning, which the verifier
 * requires when an EKU is present).
 *
 * `vap image keygen DIR` writes:
 *   image-ca.pem, image-ca.key            the root (trust anchor for `verify --trust`)
 *   image-signing.pem, image-signing.key  the signing certificate (+ any intermediates) and its key
 * Keys are PKCS#8 PEM, mode 0600. ECDSA P-256 unless RSA-2048 is asked for.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, readOperatorFile } from "../agent/core/index.js";
import { signCertificate } from "../agent/capwap/dtls/index.js";
import { generateKey, issueCa, serialNumber, validFor, writeCredential, type IssuedCertificate, type PkiKeyType, type Validity } from "../agent/pki/index.js";
import { oneLineName, parsePemCertificates } from "./trust.js";

export interface SignerRequest {
  type: PkiKeyType;
  validity: Validity;
  commonName?: string;
}

/** A code-signing certificate issued by `issuer` (a root or an intermediate). */
export function issueImageSigner(issuer: IssuedCertificate, req: SignerRequest): IssuedCertificate {
  const pair = generateKey(req.type);
  const cert = signCertificate({
    subject: [
      ["O", "vap lab"],
      ["CN", req.commonName ?? "vap image signing"],
    ],
    publicKey: pair.publicKey,
    issuer: { key: issuer.key, cert: issuer.cert },
    serial: serialNumber(),
    ...req.validity,
    extensions: [
      ["basicConstraints", "critical,CA:FALSE"],
      ["keyUsage", "critical,digitalSignature"],
      ["extendedKeyUsage", "codeSigning"],
      ["subjectKeyIdentifier", "hash"],
      ["authorityKeyIdentifier", "keyid:always"],
    ],
  });
  return { ...pair, cert };
}

export interface KeygenOptions {
  keyType?: PkiKeyType;
  /** Validity of the signing certificate in days from `start`; default 1825 (5 years). */
  days?: number;
  /** Start of validity; default now. A past start with few days makes an expired signer (tests). */
  start?: Date;
  force?: boolean;
}

export interface ImageKeyFiles {
  caCert: string;
  caKey: string;
  signingCert: string;
  signingKey: string;
}

/** The root outlives anything it signs: 20 years, or longer than the signer. */
const ROOT_DAYS = 7300;

export function generateImageKeys(dir: string, options: KeygenOptions = {}): ImageKeyFiles {
  const type = options.keyType ?? "ecdsa";
  const days = options.days ?? 1825;
  if (!Number.isInteger(days) || days < 1) throw new ConfigError(`validity ${days} days must be a positive integer`);
  if (options.start && Number.isNaN(options.start.getTime())) throw new ConfigError("start of validity is not a date");
  if (existsSync(join(dir, "image-ca.key")) && !options.force) throw new ConfigError(`${dir} already holds image keys (image-ca.key); use --force to replace them`);
  mkdirSync(dir, { recursive: true });
  const ca = issueCa(type, validFor(Math.max(ROOT_DAYS, days), options.start), "vap image-signing CA");
  const signing = issueImageSigner(ca, { type, validity: validFor(days, options.start) });
  const caFiles = writeCredential(dir, "image-ca", ca, ca.cert);
  const signingFiles = writeCredential(dir, "image-signing", signing, signing.cert);
  return { caCert: caFiles.cert, caKey: caFiles.key, signingCert: signingFiles.cert, signingKey: signingFiles.key };
}

export interface ImageSigner {
  key: KeyObject;
  /** Canonical PEM of the signing certificate then its intermediates: the signing_cert.pem member. */
  chain: string;
  /** Subject of the signing certificate, one line. */
  subject: string;
}

/** A signer from PEM text: the chain (signing certificate first) and the matching private key. */
export function signerFromPem(chainPem: string, keyPem: string): ImageSigner {
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new ConfigError(`signing key does not parse: ${(err as Error).message}`);
  }
  const certs = parsePemCertificates(chainPem, "signing certificate");
  const leaf = certs[0]!;
  const spki = (k: KeyObject) => k.export({ type: "spki", format: "der" });
  if (!spki(createPublicKey(key)).equals(spki(leaf.publicKey))) throw new ConfigError(`signing key does not match the certificate ${oneLineName(leaf.subject)}`);
  return { key, chain: certs.map((c) => c.toString()).join(""), subject: oneLineName(leaf.subject) };
}

/** The signer `vap image keygen DIR` wrote (DIR/image-signing.pem and .key). */
export function loadSigner(dir: string): ImageSigner {
  const read = (file: string) => readOperatorFile(join(dir, file));
  return signerFromPem(read("image-signing.pem"), read("image-signing.key"));
}
