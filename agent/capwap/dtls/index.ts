/**
 * DTLS for the CAPWAP control channel (RFC 5415 §2.4, RFC 6347), over an
 * OpenSSL addon driven through memory BIOs: the caller owns the UDP socket.
 *
 * What other modules may use:
 * - DtlsContext: credentials, trust, suites, versions; one per identity.
 * - DtlsSession.connect(): the AP (client) side; DtlsServer: the controller
 *   side, sessions keyed by peer address:port after a cookie exchange.
 * - addDtlsPreamble / stripDtlsPreamble: CAPWAP DTLS header framing
 *   (sessions apply it themselves unless framing is "none").
 * - keylogFileSink: SSLKEYLOGFILE output for Wireshark/tshark.
 * - signCertificate: X.509 issuing for the lab PKI.
 * - DtlsError: every session failure, with a stable code.
 */
export { DtlsContext, DEFAULT_DTLS_CIPHERS, DEFAULT_DTLS10_CIPHERS, type DtlsContextOptions, type DtlsClientPsk, type DtlsServerPsk } from "./context.js";
export {
  DtlsSession,
  type DtlsClientOptions,
  type DtlsTransportOptions,
  type DtlsPeerInfo,
  type DtlsSessionState,
  type DtlsSessionEvents,
} from "./session.js";
export {
  DtlsServer,
  DEFAULT_MAX_HANDSHAKES,
  DEFAULT_HALF_OPEN_TIMEOUT_MS,
  type DtlsServerOptions,
  type DtlsServerEvents,
  type DtlsServerStats,
} from "./server.js";
export { DtlsError, type DtlsErrorCode } from "./errors.js";
export { CAPWAP_DTLS_PREAMBLE, addDtlsPreamble, stripDtlsPreamble } from "./preamble.js";
export { keylogFileSink, type KeylogSink } from "./keylog.js";
export { signCertificate, type CertificateRequest } from "./certificate.js";
