/**
 * What went wrong with an SFTP download, as the seam's failure reasons.
 * ssh2-sftp-client rewraps ssh2's errors into new ones that keep the
 * message and `code` but drop ssh2's `level`, so authentication and
 * handshake timeouts are known by ssh2's messages.
 */
import { socketFailure, type SourceFailure } from "../file-download.js";

/** SFTP status codes (draft-ietf-secsh-filexfer-02 §7) as ssh2 reports them in `code`. */
const SFTP_NO_SUCH_FILE = 2;
const SFTP_PERMISSION_DENIED = 3;

interface SftpError {
  code?: unknown;
  level?: unknown;
  message?: unknown;
}

/** A thrown error from connecting, stat or the read stream → a reason and one line. */
export function sftpFailure(err: unknown): SourceFailure {
  const { code, level, message: raw } = (typeof err === "object" && err !== null ? err : {}) as SftpError;
  const message = typeof raw === "string" && raw !== "" ? raw : String(err);
  if (level === "client-authentication" || /All configured authentication methods failed/.test(message)) {
    return { reason: "auth", message: "authentication failed (user, password or key refused)" };
  }
  if (level === "client-timeout" || /Timed out while waiting for handshake/.test(message)) return { reason: "timeout", message: "timed out waiting for the SSH handshake" };
  if (code === "ENOENT" || code === SFTP_NO_SUCH_FILE) return { reason: "not-found", message: "no such file" };
  if (code === "EACCES" || code === SFTP_PERMISSION_DENIED) return { reason: "refused", message: "permission denied" };
  return socketFailure(err) ?? { reason: "network", message };
}
