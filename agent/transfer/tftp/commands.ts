/**
 * `vap tftp serve DIR` (a primary AP's image server, or any lab TFTP
 * server) and `vap fetch URL FILE` (download an image by hand). fetch picks
 * its transport by URL scheme from one table, so sftp://, ftp:// and
 * http(s):// are one row each when their sources exist.
 */
import { type Command, type CommandIo, cliLog, integerFlag, onePositional, parseOptions, untilSignal } from "../../command-kit/index.js";
import { ConfigError } from "../../core/index.js";
import type { ImageSink } from "../sink.js";
import { fetchTftp } from "./client.js";
import { fileSink } from "./file-sink.js";
import { DEFAULT_MAX_TRANSFERS, TFTP_PORT } from "./limits.js";
import { startTftpServer } from "./server.js";

const SERVE_USAGE = `DIR [--address A] [--port P] [--max-transfers N] [--json]
  Serves the files in DIR read-only by TFTP (RFC 1350, options blksize,
  tsize, timeout, windowsize) until SIGINT/SIGTERM. Names are relative to
  DIR and never leave it; write requests are refused.
  --address A          listen address (default 0.0.0.0)
  --port P             UDP port (default ${TFTP_PORT}; 0 = any free port)
  --max-transfers N    concurrent transfers; more are answered "busy" (default ${DEFAULT_MAX_TRANSFERS})
  --json               log pino JSON records instead of console lines`;

async function runServe(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, {
    address: { type: "string" },
    port: { type: "string" },
    "max-transfers": { type: "string" },
    json: { type: "boolean" },
  });
  const root = onePositional(positionals, SERVE_USAGE);
  const server = await startTftpServer({
    root,
    address: values.address ?? "0.0.0.0",
    port: values.port === undefined ? TFTP_PORT : integerFlag("port", values.port, 0, 65535),
    maxTransfers: values["max-transfers"] === undefined ? DEFAULT_MAX_TRANSFERS : integerFlag("max-transfers", values["max-transfers"], 1),
    log: cliLog(io, values.json ?? false),
  });
  try {
    await untilSignal(io.signal);
  } finally {
    await server.close();
  }
  return 0;
}

export const tftpServeCommand: Command = {
  path: ["tftp", "serve"],
  summary: "serve a directory read-only by TFTP",
  usage: SERVE_USAGE,
  run: runServe,
};

interface FetchProgress {
  signal?: AbortSignal;
  onProgress?(bytes: number, total?: number): void;
}

/** One row per URL scheme vap can fetch from. */
const FETCHERS: Readonly<Record<string, (url: string, sink: ImageSink, o: FetchProgress) => Promise<{ bytes: number }>>> = {
  "tftp:": fetchTftp,
};

const FETCH_USAGE = `URL FILE
  Downloads URL into FILE (through FILE.part, renamed when complete).
  URL: ${Object.keys(FETCHERS)
    .map((s) => `${s}//host[:port]/path`)
    .join(", ")}. Progress is shown on a terminal.`;

function schemeOf(url: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined || !(scheme in FETCHERS)) {
    throw new ConfigError(`cannot fetch "${url}": ${scheme ? `${scheme.slice(0, -1)}:// is not supported` : "not a URL"} (supported: ${Object.keys(FETCHERS).map((s) => `${s}//`).join(", ")})`);
  }
  return scheme;
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
  const { positionals } = parseOptions(argv, {});
  if (positionals.length !== 2) throw new ConfigError(`usage: vap fetch ${FETCH_USAGE.split("\n")[0]}`);
  const [url, file] = positionals as [string, string];
  const fetcher = FETCHERS[schemeOf(url)]!;
  const tty = process.stderr.isTTY === true;
  const started = performance.now();
  const { bytes } = await fetcher(url, fileSink(file), { signal: io.signal, onProgress: tty ? terminalProgress(io.stderr) : undefined });
  if (tty) io.stderr("\n");
  io.stdout(`fetch: ${url} -> ${file}, ${bytes} bytes in ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
  return 0;
}

export const fetchCommand: Command = {
  path: ["fetch"],
  summary: "download a file by URL (tftp://)",
  usage: FETCH_USAGE,
  run: runFetch,
};
