/**
 * Loader and typings for the vap_dtls addon (agent/capwap/dtls/native/*.c,
 * built by node-gyp on `npm install`). Internal to agent/capwap/dtls: other
 * modules use index.ts.
 */
import { loadAddon } from "../../core/index.js";

/** Session states, mirrored from session.c. */
export const NativeState = {
  Handshaking: 0,
  Connected: 1,
  PeerClosed: 2,
  Failed: 3,
  Freed: 4,
  Listening: 5,
} as const;
export type NativeState = (typeof NativeState)[keyof typeof NativeState];

export interface NativeError {
  kind: "alert" | "verify" | "timeout" | "protocol";
  /** OpenSSL's reason text, e.g. "tlsv1 alert unknown ca". */
  reason: string;
  /** The alert description when kind is "alert". */
  alert?: string;
  /** X.509 verification detail when kind is "verify". */
  detail?: string;
}

export interface NativeResult {
  state: NativeState;
  /** Datagrams to send, in order. */
  out?: Uint8Array[];
  /** Decrypted application data, one entry per record. */
  data?: Uint8Array[];
  /** New SSLKEYLOGFILE lines. */
  keylog?: string[];
  /** Milliseconds until OpenSSL's retransmission timer expires; -1 when none runs. */
  timer: number;
  error?: NativeError;
  /** feed() only: received records thrown away unread (RFC 6347 §4.1.2.7), when any were. */
  discarded?: number;
  /** listen() only: the ClientHello carried a valid cookie; this object is now the peer's session. */
  accepted?: boolean;
}

export interface NativePeer {
  version: string;
  cipher: string;
  cipherStandardName: string;
  dataMtu: number;
  pskIdentity?: string;
  subject?: string;
  issuer?: string;
  fingerprint256?: string;
}

export interface NativeContextOptions {
  server: boolean;
  cert?: string;
  key?: string;
  ca?: string;
  verifyPeer?: boolean;
  pin?: Uint8Array;
  pskIdentity?: string;
  pskKey?: Uint8Array;
  pskHint?: string;
  pskIdentities?: string[];
  pskKeys?: Uint8Array[];
  ciphers?: string;
  minVersion?: number;
  securityLevel?: number;
  keylog?: boolean;
}

export interface NativeContext {
  rotateCookieSecret(): void;
  /** [OpenSSL name, IANA name] of every suite the context allows. */
  ciphers(): [string, string][];
}

export interface NativeSession {
  start(): NativeResult;
  feed(datagram: Uint8Array): NativeResult;
  /** `admit` false: report a valid cookie but compute no flight (the server is at its handshake cap). */
  listen(datagram: Uint8Array, peer: string, admit: boolean): NativeResult;
  /** The largest datagram from now on (a listener's, per peer). */
  setMtu(mtu: number): void;
  write(data: Uint8Array): NativeResult;
  timeout(): NativeResult;
  close(): NativeResult;
  peer(): NativePeer | undefined;
}

export interface NativeCertificateRequest {
  subject: [string, string][];
  publicKey: string;
  issuerKey: string;
  issuerCert?: string;
  serial: Uint8Array;
  notBefore: number;
  notAfter: number;
  extensions: [string, string][];
}

export interface VapDtlsAddon {
  Context: new (options: NativeContextOptions) => NativeContext;
  Session: new (context: NativeContext, options: { mtu: number; retransmitMs: number }) => NativeSession;
  signCertificate(request: NativeCertificateRequest): string;
  /** SSL objects currently allocated (leak checks). */
  liveSessions(): number;
  opensslVersion: string;
}

export const DTLS1_VERSION = 0xfeff;
export const DTLS1_2_VERSION = 0xfefd;

export const addon: VapDtlsAddon = loadAddon<VapDtlsAddon>("vap_dtls");
