/*
 * Byte helpers for every layer, the pure codec included: this file imports
 * nothing, and the codec imports it directly (core/index.js pulls in pino).
 */

/** Byte-wise equality (not constant-time: for protocol fields, never for secrets). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The parts, in order, as one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Node's Buffer pool size and rule: only arrays up to half a slab share one. */
const SLAB_BYTES = 8 * 1024;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

/**
 * A new zeroed array of `n` bytes for one packet. Small ones are carved out
 * of a shared slab, as Node's Buffer.allocUnsafe does, but as plain
 * Uint8Arrays and in any runtime: a fresh ArrayBuffer per packet costs about
 * five times more (an image block, two allocations per 1400-byte packet, is
 * the hot case). No region is ever handed out twice, so nothing leaks
 * between callers; a slab lives as long as any array carved from it.
 */
export function allocateBytes(n: number): Uint8Array {
  if (n > SLAB_BYTES >>> 1) return new Uint8Array(n);
  if (slabUsed + n > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, n);
  // 8-byte aligned like Node's pool, so copies into and out of it stay fast.
  slabUsed = (slabUsed + n + 7) & ~7;
  return out;
}
