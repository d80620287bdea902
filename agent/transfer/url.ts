/**
 * URLs as vap reads and prints them: a user name or password in a URL
 * (https://user:secret@host/path) is never shown — not in a log line, an
 * error or `vap fetch`'s summary.
 */
import { ConfigError } from "../core/index.js";

/**
 * `https://user:secret@host/x` → `https://*****@host/x`; anything without
 * credentials (or not a URL) unchanged but for control characters, shown as
 * \xNN so an error naming the URL stays one line.
 */
export function redactCredentials(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, "$1*****@")
    .replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** A percent-decoded URL part; a one-line ConfigError (the URL redacted) for a bad %-escape. */
export function decodedPart(part: string, what: string, url: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new ConfigError(`"${redactCredentials(url)}": bad %-escape in the ${what}`);
  }
}

/** A URL naming a file on a server one logs in to (sftp://, ftp://): where, who, and which file. */
export interface LoginUrl {
  /** The scheme with its colon, lower-case ("sftp:"). */
  scheme: string;
  host: string;
  port: number;
  /** Percent-decoded; undefined when the URL names none. */
  user?: string;
  password?: string;
  /** The path, percent-decoded, with its leading "/". */
  path: string;
}

/** `scheme://[user[:password]@]host[:port]/path` for one of `defaultPorts`' schemes; a one-line ConfigError (credentials redacted) for anything else. */
export function parseLoginUrl(url: string, defaultPorts: Readonly<Record<string, number>>): LoginUrl {
  const form = `${Object.keys(defaultPorts).map((s) => `${s}//`).join(" or ")}[user[:password]@]host[:port]/path`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`"${redactCredentials(url)}" is not ${form}`);
  }
  const defaultPort = defaultPorts[parsed.protocol];
  if (defaultPort === undefined || parsed.hostname === "" || parsed.pathname.length < 2 || parsed.search !== "" || parsed.hash !== "") {
    throw new ConfigError(`"${redactCredentials(url)}" is not ${form}`);
  }
  const path = decodedPart(parsed.pathname, "path", url);
  return {
    scheme: parsed.protocol,
    // [::1] → ::1, for the socket.
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: parsed.port === "" ? defaultPort : Number(parsed.port),
    ...(parsed.username === "" ? {} : { user: decodedPart(parsed.username, "user name", url) }),
    ...(parsed.password === "" ? {} : { password: decodedPart(parsed.password, "password", url) }),
    path,
  };
}
