import { randomBytes } from "node:crypto";

/** Injected randomness (back-off jitter, impairment decisions, session ids). */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  bytes(n: number): Uint8Array;
}

/** Seeded, reproducible generator (mulberry32): same seed, same run. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    bytes(n) {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
  };
}

export const systemRandom: Random = {
  next: () => randomBytes(4).readUInt32BE(0) / 4294967296,
  int: (n) => Math.floor((randomBytes(4).readUInt32BE(0) / 4294967296) * n),
  bytes: (n) => new Uint8Array(randomBytes(n)),
};

/** Uniform integer in [min, max], both ends included (a back-off drawn between two configured bounds). */
export function randomBetween(random: Random, min: number, max: number): number {
  return min + random.int(max - min + 1);
}
