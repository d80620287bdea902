/**
 * Random input sequences through a pure transition table with a model of its
 * shell: the shared loop of the table fuzz targets (the WTP's, the lab
 * controller's session). A target supplies one sequence at a time — the
 * machine and the model of what its shell holds — and the loop checks after
 * every step that the input did not throw and that the machine is not stuck:
 * outside its end states something is always due (a timer, an answer, an
 * outcome). A failure names its case, its step and the last inputs.
 */
import { seededRandom, type Random } from "../../agent/core/index.js";

export interface Sequence<I> {
  /** The machine's state now (counted, and named in failures). */
  state(): string;
  /** Why the machine could never move again from here, or undefined when something is due or it ended. */
  stuck(): string | undefined;
  /** An input the shell could deliver now, or a peer could send at any time. */
  next(random: Random): I;
  /** Take the input through the table and carry its effects into the model. */
  step(input: I): void;
  /** A short name for the input in a failure's trail. */
  describe(input: I): string;
}

/**
 * Run `cases` sequences of `steps` inputs, sequence n seeded with seed + n;
 * returns how many steps were taken in each state.
 */
export function fuzzSequences<I>(seed: number, cases: number, steps: number, start: (random: Random) => Sequence<I>): Map<string, number> {
  const states = new Map<string, number>();
  for (let n = 0; n < cases; n++) {
    const random = seededRandom(seed + n);
    const sequence = start(random);
    const trail: string[] = [];
    for (let i = 0; i < steps; i++) {
      const state = sequence.state();
      states.set(state, (states.get(state) ?? 0) + 1);
      const stuck = sequence.stuck();
      if (stuck !== undefined) throw new Error(`case ${n} (seed ${seed + n}), step ${i}: stuck in ${state}: ${stuck}; last inputs ${trail.slice(-4).join(", ")}`);
      const input = sequence.next(random);
      trail.push(`${state} + ${sequence.describe(input)}`);
      try {
        sequence.step(input);
      } catch (err) {
        throw new Error(`case ${n} (seed ${seed + n}), step ${i}: ${state} + ${JSON.stringify(input)}: ${(err as Error).stack}`);
      }
    }
  }
  return states;
}
