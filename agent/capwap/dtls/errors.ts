import { PeerError } from "../../core/index.js";
import type { NativeError } from "./native.js";

/**
 * Why a DTLS session ended. The code is stable; the message is one line
 * carrying OpenSSL's own reason text so operators can search for it.
 */
export type DtlsErrorCode =
  /** The handshake did not finish before its deadline, or OpenSSL gave up retransmitting. */
  | "DTLS_HANDSHAKE_TIMEOUT"
  /** The server dropped this handshake to admit a newer one: its cap on handshakes in progress was reached. */
  | "DTLS_HANDSHAKE_EVICTED"
  /** We rejected the peer's certificate (chain, validity, pin, or none sent). */
  | "DTLS_PEER_VERIFY"
  /** The peer sent a fatal alert. */
  | "DTLS_ALERT"
  /** Any other handshake or record-layer failure (e.g. no shared cipher). */
  | "DTLS_PROTOCOL"
  /** The peer closed the session with close_notify, or it was replaced. */
  | "DTLS_CLOSED";

export class DtlsError extends PeerError {
  declare readonly code: DtlsErrorCode;
  /** OpenSSL's reason string, when OpenSSL produced the failure. */
  readonly reason: string | undefined;
  /** Alert description for DTLS_ALERT, e.g. "unknown CA". */
  readonly alert: string | undefined;

  constructor(code: DtlsErrorCode, message: string, details: { reason?: string; alert?: string } = {}) {
    super(code, message);
    this.reason = details.reason;
    this.alert = details.alert;
  }

  /** Map an addon failure to a typed error. */
  static fromNative(e: NativeError): DtlsError {
    const details = { reason: e.reason, ...(e.alert ? { alert: e.alert } : {}) };
    switch (e.kind) {
      case "alert":
        return new DtlsError("DTLS_ALERT", `DTLS alert from peer: ${e.reason}`, details);
      case "verify":
        return new DtlsError(
          "DTLS_PEER_VERIFY",
          `DTLS peer verification failed: ${e.reason}${e.detail ? ` (${e.detail})` : ""}`,
          details,
        );
      case "timeout":
        return new DtlsError("DTLS_HANDSHAKE_TIMEOUT", `DTLS handshake timed out: ${e.reason}`, details);
      case "protocol":
        return new DtlsError("DTLS_PROTOCOL", `DTLS failure: ${e.reason}`, details);
    }
  }
}
