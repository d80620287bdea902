/**
 * One row per URL scheme vap can fetch from: `vap fetch` picks its source
 * here, and so does a controller given an image server. A new transport
 * (sftp://, ftp://) is one row.
 */
import { ConfigError } from "../core/index.js";
import { httpImageSource } from "./http/index.js";
import type { ImageSource } from "./source.js";
import { tftpImageSource } from "./tftp/index.js";
import { redactCredentials } from "./url.js";

export interface SchemeOptions {
  /** PEM of a private CA, for the schemes that speak TLS. */
  ca?: string;
}

interface Scheme {
  /** A source that fetches a request's own URL, or `server` joined with the request's name. */
  source(server: string, o: SchemeOptions): ImageSource;
  /** Whether a CA means anything for this scheme (an http:// URL may redirect to https://). */
  takesCa: boolean;
}

const SCHEMES: Readonly<Record<string, Scheme>> = {
  "tftp:": { source: (server) => tftpImageSource({ server }), takesCa: false },
  "http:": { source: (server, { ca }) => httpImageSource({ server, ...(ca === undefined ? {} : { ca }) }), takesCa: true },
  "https:": { source: (server, { ca }) => httpImageSource({ server, ...(ca === undefined ? {} : { ca }) }), takesCa: true },
};

/** "tftp://, http://, https://" — what the usage lines and errors list. */
export const SUPPORTED_SCHEMES: readonly string[] = Object.keys(SCHEMES).map((s) => `${s}//`);

/** The schemes a private CA means something for ("http://", "https://"); the others ignore one. */
export const CA_SCHEMES: readonly string[] = Object.keys(SCHEMES)
  .filter((s) => SCHEMES[s]!.takesCa)
  .map((s) => `${s}//`);

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
