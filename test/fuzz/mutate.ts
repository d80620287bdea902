import type { Random } from "../../agent/core/index.js";

/**
 * Seeded structure-aware mutations of a valid packet: bit flips,
 * truncation, extension, and the 16-bit length fields (given by the caller,
 * who knows the layout) set to 0, max, or off by one; counts blown up by
 * writing 0xff into single bytes.
 */
export function mutate(valid: Uint8Array, lengthFields: readonly number[], random: Random): Uint8Array {
  const out = Uint8Array.from(valid);
  switch (random.int(6)) {
    case 0: {
      for (let n = 1 + random.int(4); n > 0; n--) out[random.int(out.length)]! ^= 1 << random.int(8);
      return out;
    }
    case 1:
      return out.subarray(0, random.int(out.length));
    case 2: {
      const grown = new Uint8Array(out.length + 1 + random.int(16));
      grown.set(out);
      for (let i = out.length; i < grown.length; i++) grown[i] = random.int(256);
      return grown;
    }
    case 3: {
      if (lengthFields.length === 0) return out;
      const at = lengthFields[random.int(lengthFields.length)]!;
      const old = (out[at]! << 8) | out[at + 1]!;
      const value = [0, 0xffff, old + 1, old - 1, old + 8, random.int(0x10000)][random.int(6)]! & 0xffff;
      out[at] = value >> 8;
      out[at + 1] = value & 0xff;
      return out;
    }
    case 4: {
      out[random.int(out.length)] = random.next() < 0.5 ? 0xff : 0x00;
      return out;
    }
    default: {
      // Splice: repeat a random slice in place (duplicated elements, shifted fields).
      const from = random.int(out.length);
      const len = 1 + random.int(Math.min(32, out.length - from));
      const spliced = new Uint8Array(out.length + len);
      spliced.set(out.subarray(0, from + len));
      spliced.set(out.subarray(from), from + len);
      return spliced;
    }
  }
}

/**
 * How many cases a fuzz suite runs: its normal (CI) count times
 * VAP_FUZZ_SCALE, which `npm run fuzz` sets for the long run. One scale,
 * not one count, because a case costs a microsecond in the codec and a
 * millisecond in the image verifier.
 */
export function fuzzCases(normal: number): number {
  const scale = Number(process.env.VAP_FUZZ_SCALE ?? 1);
  if (!(scale > 0)) throw new Error(`VAP_FUZZ_SCALE must be a number > 0, got ${process.env.VAP_FUZZ_SCALE}`);
  return Math.round(normal * scale);
}

/** A test timeout for `cases` cases of about `msPerCase` each (at least a minute). */
export function fuzzTimeout(cases: number, msPerCase: number): number {
  return Math.max(60_000, cases * msPerCase * 3);
}
