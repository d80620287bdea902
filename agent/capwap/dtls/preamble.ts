import { allocateBytes } from "../../core/index.js";

/**
 * RFC 5415 §4.2: on the CAPWAP control and data ports every DTLS record is
 * preceded by the CAPWAP DTLS header: the preamble (version 0, type 1) and
 * 24 reserved bits. Adding and removing it is transport framing, done here
 * and never in the addon.
 */
export const CAPWAP_DTLS_PREAMBLE: Readonly<Uint8Array> = Uint8Array.of(0x01, 0x00, 0x00, 0x00);

/** Prefix one DTLS datagram with the CAPWAP DTLS header. */
export function addDtlsPreamble(dtls: Uint8Array): Uint8Array {
  const out = allocateBytes(dtls.length + 4);
  out.set(CAPWAP_DTLS_PREAMBLE, 0);
  out.set(dtls, 4);
  return out;
}

/**
 * The DTLS datagram inside a CAPWAP datagram, or undefined if it is not a
 * DTLS-typed CAPWAP datagram (e.g. a clear-text Discovery Request, type 0).
 * RFC 5415 §4.1.1: a version other than 0 is dropped; §4.2: receivers ignore
 * the reserved bits.
 */
export function stripDtlsPreamble(datagram: Uint8Array): Uint8Array | undefined {
  if (datagram.length <= 4 || datagram[0] !== CAPWAP_DTLS_PREAMBLE[0]) return undefined;
  return datagram.subarray(4);
}
