/**
 * Dev PKI for the lab and the tests: one CA, a controller certificate and
 * per-AP certificates, real X.509 signed by the OpenSSL inside Node (no
 * `openssl` binary needed on a Pi or in a container).
 *
 * Layout under DIR:
 *   ca.pem, ca.key                      the lab CA
 *   controller.pem, controller.key      the controller (DTLS server), chain = leaf + CA
 *   ap/<CN>.pem, ap/<CN>.key            one per AP (DTLS client), chain = leaf + CA
 * Keys are PKCS#8 PEM, mode 0600.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../core/index.js";
import { signCertificate } from "../capwap/dtls/index.js";

/** Key types `vap pki init` issues: ECDSA P-256, or RSA-2048 as on Cisco controllers and APs. */
export const PKI_KEY_TYPES = ["ecdsa", "rsa"] as const;
export type PkiKeyType = (typeof PKI_KEY_TYPES)[number];
/** Smaller keys and faster handshakes; `rsa` matches Cisco devices and suites that need RSA (AES128-SHA). */
export const DEFAULT_PKI_KEY_TYPE: PkiKeyType = "ecdsa";

export interface KeyPair {
  /** PKCS#8 PEM. */
  key: string;
  /** SPKI PEM. */
  publicKey: string;
}

export interface IssuedCertificate extends KeyPair {
  /** The certificate alone, PEM. */
  cert: string;
}

/** ECDSA P-256 by default; RSA-2048 for controllers and suites that need RSA (AES128-SHA). */
export function generateKey(type: PkiKeyType): KeyPair {
  const { privateKey, publicKey } =
    type === "rsa"
      ? generateKeyPairSync("rsa", { modulusLength: 2048 })
      : generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return {
    key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKey: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

/** RFC 5280 §4.1.2.2: positive, at most 20 octets; 16 random bytes, top bit clear. */
export function serialNumber(): Uint8Array {
  const s = randomBytes(16);
  s[0] = (s[0]! & 0x7f) | 0x01;
  return s;
}

const DAY_MS = 86_400_000;
const ORGANIZATION = "vap lab";

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

export function validFor(days: number, from: Date = new Date()): Validity {
  // An hour of back-dating absorbs clock skew between lab hosts.
  return { notBefore: new Date(from.getTime() - 3_600_000), notAfter: new Date(from.getTime() + days * DAY_MS) };
}

/**
 * A root CA (self-signed), or with `parent` an intermediate CA that `parent`
 * signs: a chain such as a controller's HTTPS trust point (root →
 * intermediate → server), which may issue leaves but no further CAs
 * (pathlen:0).
 */
export function issueCa(type: PkiKeyType, validity: Validity, commonName = "vap lab CA", parent?: IssuedCertificate): IssuedCertificate {
  const pair = generateKey(type);
  const cert = signCertificate({
    subject: [
      ["O", ORGANIZATION],
      ["CN", commonName],
    ],
    publicKey: pair.publicKey,
    issuer: parent ? { key: parent.key, cert: parent.cert } : { key: pair.key },
    serial: serialNumber(),
    ...validity,
    extensions: [
      ["basicConstraints", parent ? "critical,CA:TRUE,pathlen:0" : "critical,CA:TRUE"],
      ["keyUsage", "critical,keyCertSign,cRLSign"],
      ["subjectKeyIdentifier", "hash"],
      ...(parent ? [["authorityKeyIdentifier", "keyid:always"] as [string, string]] : []),
    ],
  });
  return { ...pair, cert };
}

export interface LeafRequest {
  commonName: string;
  /** "controller" is a DTLS server, "ap" a DTLS client. */
  role: "controller" | "ap";
  type: PkiKeyType;
  validity: Validity;
  /** IP addresses the certificate also names (subjectAltName IP:), for a server reached by address, such as an HTTPS server on 127.0.0.1. */
  ipAddresses?: readonly string[];
}

/** A leaf signed by `ca` (its certificate and key are all the signature needs). */
export function issueLeaf(ca: Pick<IssuedCertificate, "cert" | "key">, req: LeafRequest): IssuedCertificate {
  const pair = generateKey(req.type);
  // RSA keys also encipher: TLS_RSA_WITH_AES_128_CBC_SHA (RFC 5415's
  // mandatory suite) encrypts the premaster secret to the server's key.
  const keyUsage = req.type === "rsa" ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature";
  const cert = signCertificate({
    subject: [
      ["O", ORGANIZATION],
      ["CN", req.commonName],
    ],
    publicKey: pair.publicKey,
    issuer: { key: ca.key, cert: ca.cert },
    serial: serialNumber(),
    ...req.validity,
    extensions: [
      ["basicConstraints", "critical,CA:FALSE"],
      ["keyUsage", keyUsage],
      ["extendedKeyUsage", req.role === "controller" ? "serverAuth,clientAuth" : "clientAuth"],
      ["subjectKeyIdentifier", "hash"],
      ["authorityKeyIdentifier", "keyid:always"],
      ["subjectAltName", [`DNS:${req.commonName}`, ...(req.ipAddresses ?? []).map((ip) => `IP:${ip}`)].join(",")],
    ],
  });
  return { ...pair, cert };
}

/** "02:00:00:00:00:01" -> 0x020000000001. */
export function parseMac(text: string): number {
  const hex = text.replace(/[:.-]/g, "");
  if (!/^[0-9a-fA-F]{12}$/.test(hex)) throw new ConfigError(`"${text}" is not a MAC address`);
  return Number.parseInt(hex, 16);
}

/**
 * [inf] Cisco AP certificates (MICs) are named after the model and the base
 * radio MAC; we use "<model>-<12 lowercase hex digits>", e.g.
 * "C9120AXI-02000000000a". One place, so a real capture can correct it.
 */
export function apCommonName(model: string, mac: number): string {
  return `${model}-${mac.toString(16).padStart(12, "0")}`;
}

export interface PkiOptions {
  keyType?: PkiKeyType;
  /** How many AP certificates. Default 2. */
  aps?: number;
  /** AP model in the CN. Default "C9120AXI". */
  model?: string;
  /** MAC of the first AP; the next ones count up. Default 02:00:00:00:00:01. */
  baseMac?: string;
  /** Controller CN. Default "vap-controller". */
  controllerName?: string;
  /** Addresses the controller's certificate names (its HTTPS server is reached by them). Default 127.0.0.1. */
  controllerAddresses?: readonly string[];
  /** Validity in days. Default 3650. */
  days?: number;
  /** Replace an existing PKI in DIR. */
  force?: boolean;
}

export interface PkiFiles {
  caCert: string;
  caKey: string;
  controllerCert: string;
  controllerKey: string;
  aps: { name: string; cert: string; key: string }[];
}

/** DIR/BASE.pem (the chain, 0644) and DIR/BASE.key (0600). */
export function writeCredential(dir: string, base: string, issued: IssuedCertificate, chain: string): { cert: string; key: string } {
  const cert = join(dir, `${base}.pem`);
  const key = join(dir, `${base}.key`);
  writeFileSync(cert, chain, { mode: 0o644 });
  writeFileSync(key, issued.key, { mode: 0o600 });
  // writeFileSync's mode applies only when it creates the file.
  chmodSync(key, 0o600);
  return { cert, key };
}

export function initPki(dir: string, options: PkiOptions = {}): PkiFiles {
  const type = options.keyType ?? DEFAULT_PKI_KEY_TYPE;
  const count = options.aps ?? 2;
  const model = options.model ?? "C9120AXI";
  const days = options.days ?? 3650;
  if (!Number.isInteger(count) || count < 0 || count > 10_000) throw new ConfigError(`AP count ${count} outside 0..10000`);
  if (!Number.isInteger(days) || days < 1) throw new ConfigError(`validity ${days} days must be a positive integer`);
  if (!/^[A-Za-z0-9-]+$/.test(model)) throw new ConfigError(`model "${model}" must be letters, digits and dashes`);
  if (existsSync(join(dir, "ca.key")) && !options.force) throw new ConfigError(`${dir} already holds a PKI (ca.key); use --force to replace it`);
  const firstMac = parseMac(options.baseMac ?? "02:00:00:00:00:01");
  mkdirSync(join(dir, "ap"), { recursive: true });

  const validity = validFor(days);
  const ca = issueCa(type, validity);
  const caFiles = writeCredential(dir, "ca", ca, ca.cert);
  const controller = issueLeaf(ca, { commonName: options.controllerName ?? "vap-controller", role: "controller", type, validity, ipAddresses: options.controllerAddresses ?? ["127.0.0.1"] });
  const controllerFiles = writeCredential(dir, "controller", controller, controller.cert + ca.cert);
  const aps: PkiFiles["aps"] = [];
  for (let i = 0; i < count; i++) {
    const name = apCommonName(model, firstMac + i);
    const ap = issueLeaf(ca, { commonName: name, role: "ap", type, validity });
    aps.push({ name, ...writeCredential(join(dir, "ap"), name, ap, ap.cert + ca.cert) });
  }
  return { caCert: caFiles.cert, caKey: caFiles.key, controllerCert: controllerFiles.cert, controllerKey: controllerFiles.key, aps };
}
