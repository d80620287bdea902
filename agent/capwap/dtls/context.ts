import { ConfigError } from "../../core/index.js";
import type { KeylogSink } from "./keylog.js";
import { addon, DTLS1_2_VERSION, DTLS1_VERSION, type NativeContext, type NativeContextOptions } from "./native.js";

/* The suite groups the defaults are made of, OpenSSL spelling. */
/** What current controllers negotiate (DTLS 1.2 only). */
const ECDHE_GCM = ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384"];
/** Forward-secret CBC suites, what a DTLS 1.0 controller with an ECDSA or RSA certificate negotiates. */
const ECDHE_CBC = ["ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA"];
/** RFC 5415 §2.4.3 with certificates: TLS_RSA_WITH_AES_128_CBC_SHA MUST, TLS_DHE_RSA_WITH_AES_128_CBC_SHA SHOULD. */
const RFC5415_CBC = ["AES128-SHA", "DHE-RSA-AES128-SHA"];
/** RFC 5415 §2.4.3 with pre-shared keys: TLS_PSK_WITH_AES_128_CBC_SHA MUST. */
const PSK = ["PSK-AES128-GCM-SHA256", "PSK-AES128-CBC-SHA"];

/**
 * Default suites when only DTLS 1.2 is allowed, strongest first (the
 * server side enforces its order). IANA names are accepted in `ciphers` too.
 */
export const DEFAULT_DTLS_CIPHERS = [...ECDHE_GCM, ...RFC5415_CBC, ...PSK].join(":");

/**
 * Default suites when DTLS 1.0 is allowed (minVersion "DTLSv1"): DTLS 1.0
 * has no GCM, so the ECDHE CBC suites join the list, or a DTLS-1.0-only
 * controller with an ECDSA certificate would find no suite in common.
 */
export const DEFAULT_DTLS10_CIPHERS = [...ECDHE_GCM, ...ECDHE_CBC, ...RFC5415_CBC, ...PSK].join(":");

/** The AP's (client's) pre-shared key. */
export interface DtlsClientPsk {
  identity: string;
  key: Uint8Array;
}

/** The controller's (server's) pre-shared keys, by client identity. */
export interface DtlsServerPsk {
  hint?: string;
  keys: ReadonlyMap<string, Uint8Array>;
}

export interface DtlsContextOptions {
  /** "client" for the AP, "server" for the controller. */
  role: "client" | "server";
  /** PEM certificate chain, leaf first (RSA or ECDSA). */
  cert?: string;
  /** PEM private key of the leaf certificate. */
  key?: string;
  /** PEM certificates of the CAs trusted to sign the peer's certificate. */
  ca?: string;
  /**
   * Verify the peer's certificate against `ca` (the server then also
   * demands one). Default true, except for a PSK-only context (no cert, no
   * ca), where there is no certificate to verify.
   */
  verifyPeer?: boolean;
  /**
   * SHA-256 fingerprint the peer's leaf certificate must have, hex, colons
   * optional; checked on top of `ca`. It needs peer verification and no PSK:
   * a context where a handshake could complete without the pinned
   * certificate ever being checked is refused, not built.
   */
  pinnedFingerprint?: string;
  psk?: DtlsClientPsk | DtlsServerPsk;
  /** OpenSSL cipher list (IANA names allowed); default DEFAULT_DTLS_CIPHERS, or DEFAULT_DTLS10_CIPHERS when minVersion is "DTLSv1". */
  ciphers?: string;
  /**
   * Lowest version accepted. Default "DTLSv1.2". "DTLSv1" is for older
   * controllers only, and it also lowers this context's OpenSSL security
   * level to 0 (DTLS 1.0 cannot work above it in OpenSSL 3.0).
   */
  minVersion?: "DTLSv1.2" | "DTLSv1";
  /** Receives key-log lines for every session made from this context. */
  keylog?: KeylogSink;
}

let cipherTable: Map<string, string> | undefined;

/** IANA name -> OpenSSL name, for every suite this OpenSSL knows. */
function ianaToOpenssl(): Map<string, string> {
  if (!cipherTable) {
    const all = new addon.Context({ server: false, ciphers: "ALL:COMPLEMENTOFALL:@SECLEVEL=0" });
    cipherTable = new Map(all.ciphers().map(([openssl, iana]) => [iana, openssl]));
  }
  return cipherTable;
}

/**
 * OpenSSL 3.0's cipher-list syntax knows only OpenSSL names, but RFC 5415
 * and controller configs use IANA names (TLS_RSA_WITH_AES_128_CBC_SHA).
 * Translate those; an IANA-looking name OpenSSL does not have is an error
 * rather than a suite silently dropped from the list.
 */
export function toOpensslCipherList(list: string): string {
  return list
    .split(/[:, ]+/)
    .filter((t) => t.length > 0)
    .map((token) => {
      const [, op = "", name = ""] = /^([!+-]?)(.*)$/.exec(token) ?? [];
      if (!/^TLS_\w+_WITH_\w+$/.test(name)) return token;
      const mapped = ianaToOpenssl().get(name);
      if (!mapped) throw new ConfigError(`DTLS cipher ${name} is not supported by OpenSSL ${addon.opensslVersion}`);
      return op + mapped;
    })
    .join(":");
}

/** "AB:CD:…" or "abcd…" -> 32 bytes. */
function parseFingerprint(text: string): Uint8Array {
  const hex = text.replace(/[:\s]/g, "");
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new ConfigError(`pinned fingerprint "${text}" is not a SHA-256 digest`);
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

function isServerPsk(psk: DtlsClientPsk | DtlsServerPsk): psk is DtlsServerPsk {
  return "keys" in psk;
}

/**
 * Everything a DTLS endpoint is configured with, validated once and shared
 * by all its sessions (one OpenSSL SSL_CTX). Make one per role and identity.
 */
export class DtlsContext {
  readonly role: "client" | "server";
  /** @internal */
  readonly native: NativeContext;
  /** @internal */
  readonly keylog: KeylogSink | undefined;

  constructor(options: DtlsContextOptions) {
    this.role = options.role;
    this.keylog = options.keylog;
    this.native = createNative(options);
  }

  /** The suites this context allows, OpenSSL names, in preference order. */
  ciphers(): string[] {
    return this.native.ciphers().map(([openssl]) => openssl);
  }
}

function createNative(o: DtlsContextOptions): NativeContext {
  const server = o.role === "server";
  const pskOnly = o.psk !== undefined && o.cert === undefined && o.ca === undefined;
  const verifyPeer = o.verifyPeer ?? !pskOnly;
  if (verifyPeer && o.ca === undefined) throw new ConfigError("DTLS: verifying the peer needs a trusted CA set (ca)");
  if ((o.cert === undefined) !== (o.key === undefined)) throw new ConfigError("DTLS: cert and key go together");
  if (server && o.cert === undefined && o.psk === undefined) throw new ConfigError("DTLS server needs a certificate or a PSK");
  if (o.pinnedFingerprint !== undefined && !verifyPeer) throw new ConfigError("DTLS: pinnedFingerprint needs peer verification (verifyPeer and a ca); without it the pin would never be checked");
  if (o.pinnedFingerprint !== undefined && o.psk) throw new ConfigError("DTLS: pinnedFingerprint cannot go with a PSK: a PSK handshake presents no certificate, so the pin would never be checked");
  const n: NativeContextOptions = {
    server,
    verifyPeer,
    ciphers: toOpensslCipherList(o.ciphers ?? (o.minVersion === "DTLSv1" ? DEFAULT_DTLS10_CIPHERS : DEFAULT_DTLS_CIPHERS)),
    minVersion: o.minVersion === "DTLSv1" ? DTLS1_VERSION : DTLS1_2_VERSION,
    keylog: o.keylog !== undefined,
  };
  // OpenSSL 3.0 refuses DTLS 1.0's MD5/SHA-1 handshake signatures at
  // security level 1 and above ("legacy sigalg disallowed or unsupported").
  if (o.minVersion === "DTLSv1") n.securityLevel = 0;
  if (o.cert !== undefined) n.cert = o.cert;
  if (o.key !== undefined) n.key = o.key;
  if (o.ca !== undefined) n.ca = o.ca;
  if (o.pinnedFingerprint !== undefined) n.pin = parseFingerprint(o.pinnedFingerprint);
  if (o.psk) {
    if (isServerPsk(o.psk) !== server) throw new ConfigError(`DTLS ${o.role} PSK has the wrong shape`);
    if (isServerPsk(o.psk)) {
      n.pskIdentities = [...o.psk.keys.keys()];
      n.pskKeys = [...o.psk.keys.values()];
      if (o.psk.hint !== undefined) n.pskHint = o.psk.hint;
    } else {
      n.pskIdentity = o.psk.identity;
      n.pskKey = o.psk.key;
    }
  }
  try {
    return new addon.Context(n);
  } catch (err) {
    throw new ConfigError(`DTLS ${o.role} context: ${(err as Error).message}`, { cause: err });
  }
}
