/**
 * URLs as vap prints them: a user name or password in a URL
 * (https://user:secret@host/path) is never shown — not in a log line, an
 * error or `vap fetch`'s summary.
 */

/** `https://user:secret@host/x` → `https://*****@host/x`; anything without credentials (or not a URL) unchanged. */
export function redactCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, "$1*****@");
}
