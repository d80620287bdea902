/**
 * Option negotiation (RFC 2347) for the options vap knows: blksize (RFC
 * 2348), timeout and tsize (RFC 2349), windowsize (RFC 7440). The server
 * accepts what it can and leaves the rest out of its OACK; the client
 * checks that an OACK only narrows what it asked for. `timeoutMs` is the
 * client's own wait when the OACK sets none.
 */
import { BLOCK_SIZE_RANGE, DEFAULT_BLOCK_SIZE, DEFAULT_TIMEOUT_MS, TIMEOUT_SECONDS_RANGE, WINDOW_SIZE_RANGE } from "./limits.js";
import type { TftpOptions } from "./packet.js";

/** What both ends use once negotiation is over. */
export interface TransferOptions {
  blockSize: number;
  windowSize: number;
  /** Retransmission timeout before back-off. */
  timeoutMs: number;
  /** The file's size when the server told (tsize). */
  size?: number;
}

export const RFC1350_OPTIONS: TransferOptions = { blockSize: DEFAULT_BLOCK_SIZE, windowSize: 1, timeoutMs: DEFAULT_TIMEOUT_MS };

/** What a client asks for; a field left out is not requested. */
export interface OptionRequest {
  blockSize?: number;
  windowSize?: number;
  timeoutSeconds?: number;
  /** Ask for tsize (the server's answer becomes TransferOptions.size). */
  askSize?: boolean;
}

/** A decimal option value (RFC 2347: "ASCII"), or undefined when it is not one. */
function decimal(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,10}$/.test(value)) return undefined;
  return Number(value);
}

export interface ServerNegotiation {
  /** What goes into the OACK; empty means no OACK (RFC 1350 transfer). */
  acknowledged: Map<string, string>;
  options: TransferOptions;
}

/** The server's side: accept, clamp to vap's limits, or silently drop each requested option (RFC 2347 §2). */
export function negotiateAsServer(requested: TftpOptions, fileSize: number, maxBlockSize: number = BLOCK_SIZE_RANGE.max): ServerNegotiation {
  const acknowledged = new Map<string, string>();
  const options: TransferOptions = { ...RFC1350_OPTIONS };
  const blksize = decimal(requested.get("blksize"));
  if (blksize !== undefined && blksize >= BLOCK_SIZE_RANGE.min) {
    options.blockSize = Math.min(blksize, maxBlockSize);
    acknowledged.set("blksize", String(options.blockSize));
  }
  const timeout = decimal(requested.get("timeout"));
  if (timeout !== undefined && timeout >= TIMEOUT_SECONDS_RANGE.min && timeout <= TIMEOUT_SECONDS_RANGE.max) {
    options.timeoutMs = timeout * 1000;
    acknowledged.set("timeout", String(timeout));
  }
  if (decimal(requested.get("tsize")) !== undefined) {
    options.size = fileSize;
    acknowledged.set("tsize", String(fileSize));
  }
  const windowsize = decimal(requested.get("windowsize"));
  if (windowsize !== undefined && windowsize >= WINDOW_SIZE_RANGE.min) {
    options.windowSize = Math.min(windowsize, WINDOW_SIZE_RANGE.max);
    acknowledged.set("windowsize", String(options.windowSize));
  }
  return { acknowledged, options };
}

/** The options a client puts into its RRQ. */
export function requestedOptions(request: OptionRequest): Map<string, string> {
  const options = new Map<string, string>();
  if (request.blockSize !== undefined) options.set("blksize", String(request.blockSize));
  if (request.timeoutSeconds !== undefined) options.set("timeout", String(request.timeoutSeconds));
  if (request.askSize) options.set("tsize", "0");
  if (request.windowSize !== undefined) options.set("windowsize", String(request.windowSize));
  return options;
}

/**
 * The client's side: an OACK may only narrow what was asked (RFC 2347 §2,
 * 2348 §2, 7440 §2). Returns the options to use, or why the OACK is
 * unacceptable (the client then sends ERROR 8).
 */
export function acceptOptionAck(oack: TftpOptions, request: OptionRequest, timeoutMs = DEFAULT_TIMEOUT_MS): TransferOptions | string {
  const options: TransferOptions = { ...RFC1350_OPTIONS, timeoutMs };
  for (const [name, value] of oack) {
    const n = decimal(value);
    if (n === undefined) return `OACK ${name} "${value}" is not a number`;
    if (name === "blksize" && request.blockSize !== undefined && n >= BLOCK_SIZE_RANGE.min && n <= request.blockSize) options.blockSize = n;
    else if (name === "windowsize" && request.windowSize !== undefined && n >= WINDOW_SIZE_RANGE.min && n <= request.windowSize) options.windowSize = n;
    else if (name === "timeout" && request.timeoutSeconds === n) options.timeoutMs = n * 1000;
    else if (name === "tsize" && request.askSize) options.size = n;
    else return `OACK ${name} ${value} was not asked for or exceeds the request`;
  }
  return options;
}
