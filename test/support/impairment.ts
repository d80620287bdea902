import type { NetworkFilter } from "../../agent/net/index.js";
import { seededRandom } from "../../agent/core/index.js";

/** A lossy, duplicating, reordering link for the simulated network, seeded. */
export function impairedLink(o: { seed: number; loss?: number; duplicate?: number; reorder?: number; latencyMs?: number; only?: (from: string) => boolean }): NetworkFilter {
  const random = seededRandom(o.seed);
  const base = o.latencyMs ?? 1;
  return (d) => {
    if (o.only && !o.only(d.from.address)) return undefined;
    if (random.next() < (o.loss ?? 0)) return "drop";
    // Reordered packets arrive a few ms late, after some that left after them.
    const delay = random.next() < (o.reorder ?? 0) ? base + 2 + random.int(8) : base;
    return random.next() < (o.duplicate ?? 0) ? [delay, delay + 1 + random.int(3)] : delay;
  };
}
