/**
 * What both transfer machines share: the retransmission schedule (back-off
 * and give-up) and the 16-bit block numbers with their rollover.
 */
import { BLOCK_NUMBER_MODULO, DEFAULT_RETRIES, MAX_BACKOFF_MS } from "./limits.js";

export interface Retransmission {
  /** The wait now in force. */
  readonly waitMs: number;
  /** Retransmissions since the peer last made progress. */
  readonly tries: number;
}

export function freshRetransmission(timeoutMs: number): Retransmission {
  return { waitMs: timeoutMs, tries: 0 };
}

/** The next wait after a timeout (doubling, capped), or undefined once `retries` are spent. */
export function backOff(r: Retransmission, retries: number = DEFAULT_RETRIES): Retransmission | undefined {
  if (r.tries >= retries) return undefined;
  return { waitMs: Math.min(r.waitMs * 2, Math.max(MAX_BACKOFF_MS, r.waitMs)), tries: r.tries + 1 };
}

/**
 * The 16-bit number block `n` (counting from 1 for the whole transfer)
 * carries. Past 65535 most servers wrap to 0 (tftpd-hpa, atftpd, vap's
 * server); some wrap to 1, skipping 0, which stays the OACK's ACK.
 */
export function wireBlock(n: number, wrapsToOne = false): number {
  return wrapsToOne ? ((n - 1) % (BLOCK_NUMBER_MODULO - 1)) + 1 : n % BLOCK_NUMBER_MODULO;
}

/** How far `wire` lies ahead of block `from`'s number, modulo 2^16 (0 = the same block). */
export function blocksAhead(wire: number, from: number): number {
  return (wire - wireBlock(from) + BLOCK_NUMBER_MODULO) % BLOCK_NUMBER_MODULO;
}
