/**
 * One row per URL scheme vap can fetch from: `vap fetch` picks its source
 * here, and so does a controller given an image server. A new transport
 * is one row.
 */
import { ConfigError } from "../core/index.js";
import { ftpImageSource } from "./ftp/index.js";
import { httpImageSource } from "./http/index.js";
import { sftpImageSource } from "./sftp/index.js";
import type { ImageSource } from "./source.js";
import { tftpImageSource } from "./tftp/index.js";
import { redactCredentials } from "./url.js";

export interface SchemeOptions {
  /** PEM of a private CA, for the schemes that speak TLS. */
  ca?: string;
  /** A private key to log in with (sftp://). */
  identity?: string;
  /** The text of a known_hosts file the server's key must be in (sftp://). */
  knownHosts?: string;
  /** Told the server's key fingerprint when no known_hosts was given (sftp://): one line for a log. */
  onUncheckedHostKey?(line: string): void;
}

interface Scheme {
  /** A source that fetches a request's own URL, or `server` joined with the request's name. */
  source(server: string, o: SchemeOptions): ImageSource;
  /** Whether a CA means anything for this scheme (an http:// URL may redirect to https://). */
  takesCa: boolean;
  /** Whether a user in the URL logs in with a password, which `vap fetch` asks for on a terminal when the URL has none. */
  login: boolean;
  /** Whether --identity and --known-hosts mean anything (SSH). */
  ssh: boolean;
}

/** The options that are set, so that an absent one stays absent (exactOptionalPropertyTypes). */
function present<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const SCHEMES: Readonly<Record<string, Scheme>> = {
  "tftp:": { source: (server) => tftpImageSource({ server }), takesCa: false, login: false, ssh: false },
  "http:": { source: (server, { ca }) => httpImageSource(present({ server, ca })), takesCa: true, login: false, ssh: false },
  "https:": { source: (server, { ca }) => httpImageSource(present({ server, ca })), takesCa: true, login: false, ssh: false },
  "sftp:": {
    source: (server, { identity, knownHosts, onUncheckedHostKey }) => sftpImageSource(present({ server, identity, knownHosts, onUncheckedHostKey })),
    takesCa: false,
    login: true,
    ssh: true,
  },
  "ftp:": { source: (server) => ftpImageSource({ server }), takesCa: false, login: true, ssh: false },
  "ftpes:": { source: (server, { ca }) => ftpImageSource(present({ server, ca })), takesCa: true, login: true, ssh: false },
};

/** "tftp://, http://, …" — what the usage lines and errors list. */
export const SUPPORTED_SCHEMES: readonly string[] = Object.keys(SCHEMES).map((s) => `${s}//`);

const schemesWhere = (test: (s: Scheme) => boolean): readonly string[] =>
  Object.keys(SCHEMES)
    .filter((s) => test(SCHEMES[s]!))
    .map((s) => `${s}//`);

/** The schemes a private CA means something for ("http://", "https://", "ftpes://"); the others ignore one. */
export const CA_SCHEMES: readonly string[] = schemesWhere((s) => s.takesCa);

/** The schemes whose URL user logs in with a password ("sftp://", "ftp://", "ftpes://"). */
export const LOGIN_SCHEMES: readonly string[] = schemesWhere((s) => s.login);

/** The schemes --identity and --known-hosts mean something for ("sftp://"). */
export const SSH_SCHEMES: readonly string[] = schemesWhere((s) => s.ssh);

/** The image source for `url` (a file, or a server directory whose files are named by the request); a one-line ConfigError for anything else. */
export function imageSourceFor(url: string, o: SchemeOptions = {}): ImageSource {
  const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(url)?.[1]?.toLowerCase();
  const row = scheme === undefined ? undefined : SCHEMES[scheme];
  if (row === undefined) {
    const why = scheme ? `${scheme.slice(0, -1)}:// is not supported` : "not a URL";
    throw new ConfigError(`cannot fetch "${redactCredentials(url)}": ${why} (supported: ${SUPPORTED_SCHEMES.join(", ")})`);
  }
  return row.source(url, o);
}
