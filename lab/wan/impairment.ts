/**
 * What the emulated WAN link does to traffic, as plain validated data, and
 * the parsers for the operator's spelling of it (`50ms`, `1%`, `10mbit`).
 * The same settings apply to both directions of the link.
 */
import { UsageError } from "../../agent/core/index.js";

export interface Impairment {
  /** One-way propagation delay in ms (RTT ≈ 2 × delay). */
  delayMs: number;
  /** Datagrams: uniform ± jitter in ms around the delay. Never reorders on its own. */
  jitterMs: number;
  /** Datagrams: probability in [0, 1] that one is lost. */
  loss: number;
  /** Datagrams: probability that one is sent twice (the copy right behind it). */
  duplicate: number;
  /** Datagrams: probability that one is held back `reorderHoldMs` so that later ones overtake it. */
  reorder: number;
  /** Extra time a reordered datagram is held, ms. */
  reorderHoldMs: number;
  /** Link rate in bits/s per direction; 0 means unlimited. */
  rateBps: number;
  /**
   * Serialization queue bound, as ms of data at the link rate: a datagram
   * that would wait longer is dropped (tail drop). TCP data never is; its
   * sender is paused instead.
   */
  queueMs: number;
}

/** A link that only relays. */
export const NO_IMPAIRMENT: Readonly<Impairment> = {
  delayMs: 0,
  jitterMs: 0,
  loss: 0,
  duplicate: 0,
  reorder: 0,
  // netem's default reorder gap is 10 ms as well; a burst overtakes within it.
  reorderHoldMs: 10,
  rateBps: 0,
  // One second of buffering is a typical branch-router queue (and netem's order of magnitude).
  queueMs: 1000,
};

/** Fill in defaults and check every field; throws a UsageError naming the field. */
export function impairmentOf(settings: Partial<Impairment> = {}): Impairment {
  const imp = { ...NO_IMPAIRMENT, ...settings };
  for (const field of ["delayMs", "jitterMs", "reorderHoldMs", "rateBps", "queueMs"] as const) {
    if (!Number.isFinite(imp[field]) || imp[field] < 0) throw new UsageError(`impairment.${field}: expected a number ≥ 0, got ${imp[field]}`);
  }
  for (const field of ["loss", "duplicate", "reorder"] as const) {
    if (!(imp[field] >= 0 && imp[field] <= 1)) throw new UsageError(`impairment.${field}: expected a probability from 0 to 1, got ${imp[field]}`);
  }
  return imp;
}

/** "1%" or "0.01" → 0.01; undefined unless within [0, 1]. */
export function parseProbability(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(%?)\s*$/.exec(text);
  if (!m) return undefined;
  const p = Number(m[1]) / (m[2] ? 100 : 1);
  return p <= 1 ? p : undefined;
}

/** Decimal units, as tc uses them: 1kbit = 1000 bit/s, 1kbyte = 8000 bit/s. */
const RATE_UNITS: Record<string, number> = {
  bit: 1,
  kbit: 1e3,
  mbit: 1e6,
  gbit: 1e9,
  byte: 8,
  kbyte: 8e3,
  mbyte: 8e6,
  gbyte: 8e9,
};

/** "10mbit", "512kbit", "100kbyte", "1.5gbit/s", a bare number of bit/s → bit/s; undefined unless > 0. */
export function parseRate(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)(?:\/s)?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = RATE_UNITS[(m[2] || "bit").toLowerCase()];
  const bps = unit === undefined ? undefined : Number(m[1]) * unit;
  return bps !== undefined && bps > 0 ? bps : undefined;
}

/** 10000000 → "10mbit", for log lines and the startup banner. */
function formatRate(bps: number): string {
  for (const [unit, scale] of [["gbit", 1e9], ["mbit", 1e6], ["kbit", 1e3]] as const) {
    if (bps >= scale) return `${+(bps / scale).toFixed(3)}${unit}`;
  }
  return `${+bps.toFixed(3)}bit`;
}

/** One line: the settings that are not neutral ("delay 50ms jitter 5ms loss 1% rate 10mbit"). */
export function describeImpairment(imp: Impairment): string {
  const parts: string[] = [];
  const pct = (p: number) => `${+(p * 100).toFixed(4)}%`;
  if (imp.delayMs) parts.push(`delay ${imp.delayMs}ms`);
  if (imp.jitterMs) parts.push(`jitter ${imp.jitterMs}ms`);
  if (imp.loss) parts.push(`loss ${pct(imp.loss)}`);
  if (imp.reorder) parts.push(`reorder ${pct(imp.reorder)} (hold ${imp.reorderHoldMs}ms)`);
  if (imp.duplicate) parts.push(`duplicate ${pct(imp.duplicate)}`);
  if (imp.rateBps) parts.push(`rate ${formatRate(imp.rateBps)} (queue ${imp.queueMs}ms)`);
  return parts.length ? parts.join(" ") : "no impairment";
}
