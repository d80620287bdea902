/**
 * What went wrong with an FTP download, as the seam's failure reasons: a
 * server's reply code (basic-ftp's FTPError), a certificate the client
 * would not trust, basic-ftp's own timeouts, or a socket error.
 */
import { FTPError } from "basic-ftp";
import { socketFailure, type SourceFailure } from "../file-download.js";

/** Reply codes (RFC 959 §4.2) that say whose problem it is. */
const NOT_LOGGED_IN = 530;
const NEED_ACCOUNT = 532;
const FILE_UNAVAILABLE = 550;

/** A thrown error from connecting, logging in, SIZE or RETR → a reason and one line. */
export function ftpFailure(err: unknown): SourceFailure {
  if (err instanceof FTPError) {
    const text = `FTP ${err.message}`;
    if (err.code === NOT_LOGGED_IN || err.code === NEED_ACCOUNT) return { reason: "auth", message: `authentication failed (${text})` };
    if (err.code === FILE_UNAVAILABLE) return { reason: "not-found", message: text };
    if (err.code >= 500) return { reason: "refused", message: text };
    return { reason: "network", message: text };
  }
  const { code, message: raw } = (typeof err === "object" && err !== null ? err : {}) as { code?: unknown; message?: unknown };
  const message = typeof raw === "string" && raw !== "" ? raw : String(err);
  // OpenSSL's names: UNABLE_TO_VERIFY_LEAF_SIGNATURE, SELF_SIGNED_CERT_IN_CHAIN, ERR_TLS_CERT_ALTNAME_INVALID…
  if (typeof code === "string" && /CERT|ISSUER|SIGNATURE|INVALID_CA|INVALID_PURPOSE/.test(code)) {
    return { reason: "refused", message: `TLS certificate not accepted: ${message} (${code})` };
  }
  if (/^Timeout \((control|data) socket\)/.test(message)) return { reason: "timeout", message };
  return socketFailure(err) ?? { reason: "network", message };
}
