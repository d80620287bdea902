/**
 * `vap fetch URL FILE [--ca FILE]`: download an image by hand. The
 * transport is picked by URL scheme from one table, so sftp:// and ftp://
 * are one row each when their sources exist. Credentials in a URL are never
 * printed.
 */
import { readFileSync } from "node:fs";
import { type Command, type CommandIo, parseOptions } from "../command-kit/index.js";
import { ConfigError, describeError } from "../core/index.js";
import { fileSink } from "./file-sink.js";
import { fetchHttp } from "./http/index.js";
import type { ImageSink } from "./sink.js";
import { fetchTftp } from "./tftp/index.js";
import { redactCredentials } from "./url.js";

interface FetchCall {
  signal?: AbortSignal;
  onProgress?(bytes: number, total?: number): void;
  /** PEM of a private CA (`--ca`), for the rows that speak TLS. */
  ca?: string;
}

interface Fetcher {
  fetch(url: string, sink: ImageSink, o: FetchCall): Promise<{ bytes: number }>;
  /** Whether `--ca` means anything for this scheme (an http:// URL may redirect to https://). */
  takesCa: boolean;
}

/** One row per URL scheme vap can fetch from. */
const FETCHERS: Readonly<Record<string, Fetcher>> = {
  "tftp:": { fetch: (url, sink, { signal, onProgress }) => fetchTftp(url, sink, { signal, onProgress }), takesCa: false },
  "http:": { fetch: fetchHttp, takesCa: true },
  "https:": { fetch: fetchHttp, takesCa: true },
};

const SUPPORTED = Object.keys(FETCHERS).map((s) => `${s}//`);

const FETCH_USAGE = `URL FILE [--ca FILE]
  Downloads URL into FILE (through FILE.part, renamed when complete).
  URL: ${Object.keys(FETCHERS)
    .map((s) => `${s}//host[:port]/path`)
    .join(", ")}. Progress is shown on a terminal.
  --ca FILE    PEM of a private CA trusted for https:// besides the system's`;

function fetcherFor(url: string): Fetcher {
  const shown = redactCredentials(url);
  const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined || !(scheme in FETCHERS)) {
    throw new ConfigError(`cannot fetch "${shown}": ${scheme ? `${scheme.slice(0, -1)}:// is not supported` : "not a URL"} (supported: ${SUPPORTED.join(", ")})`);
  }
  return FETCHERS[scheme]!;
}

function readCa(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`--ca ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? describeError(err)})`);
  }
}

/** A terminal redraws at most this often (a callback per block would flood it). */
const PROGRESS_EVERY_MS = 100;

/** "12.3 MB of 70.5 MB (17%)" on one rewritten terminal line. */
function terminalProgress(write: (text: string) => void): (bytes: number, total?: number) => void {
  let shown = -Infinity;
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  return (bytes, total) => {
    const now = performance.now();
    if (now - shown < PROGRESS_EVERY_MS && bytes !== total) return;
    shown = now;
    write(`\r${mb(bytes)}${total ? ` of ${mb(total)} (${Math.floor((bytes * 100) / total)}%)` : ""}   `);
  };
}

async function runFetch(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, { ca: { type: "string" } });
  if (positionals.length !== 2) throw new ConfigError(`usage: vap fetch ${FETCH_USAGE.split("\n")[0]}`);
  const [url, file] = positionals as [string, string];
  const fetcher = fetcherFor(url);
  if (values.ca !== undefined && !fetcher.takesCa) throw new ConfigError(`--ca applies to http:// and https:// only`);
  const ca = values.ca === undefined ? undefined : readCa(values.ca);
  const tty = process.stderr.isTTY === true;
  const started = performance.now();
  const { bytes } = await fetcher.fetch(url, fileSink(file), { signal: io.signal, onProgress: tty ? terminalProgress(io.stderr) : undefined, ...(ca === undefined ? {} : { ca }) });
  if (tty) io.stderr("\n");
  io.stdout(`fetch: ${redactCredentials(url)} -> ${file}, ${bytes} bytes in ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
  return 0;
}

export const fetchCommand: Command = {
  path: ["fetch"],
  summary: "download a file by URL (tftp://, http://, https://)",
  usage: FETCH_USAGE,
  run: runFetch,
};
