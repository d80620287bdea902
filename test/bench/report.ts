/**
 * Benchmarks print one JSON object per line (DESIGN.md): what was measured,
 * the value, its unit, and the bound it is judged against (a physical limit,
 * a peer measured in the same run, or the target).
 */
import { readFileSync } from "node:fs";

export interface BenchLine {
  bench: string;
  value: number;
  unit: string;
  bound?: number;
  /** How `bound` was obtained: "physics", "peer:<name>", "target". */
  boundKind?: string;
  [extra: string]: unknown;
}

export function report(line: BenchLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** The middle value (the upper one of an even count): what the benches compare, robust to one disturbed round. */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

/** The host's CPU counters since boot, in clock ticks over all CPUs (/proc/stat): all of them, and what the hypervisor gave other guests (steal). */
function cpuTicks(): { total: number; steal: number } {
  const fields = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: fields.reduce((a, b) => a + b, 0), steal: fields[7]! };
}

/**
 * Steal as a percentage of the CPU time that passed while the measured spans ran: on
 * a VM, time the host ran other guests. A bench compares two sides in one
 * run; a side that met more steal ran on less of the machine.
 */
export class StealMeter {
  #total = 0;
  #steal = 0;

  async measure<T>(span: () => T | Promise<T>): Promise<T> {
    const before = cpuTicks();
    try {
      return await span();
    } finally {
      const after = cpuTicks();
      this.#total += after.total - before.total;
      this.#steal += after.steal - before.steal;
    }
  }

  /** One decimal; 0 when no tick passed. */
  get percent(): number {
    return this.#total === 0 ? 0 : Math.round((this.#steal / this.#total) * 1000) / 10;
  }
}

/** Clock ticks per second in /proc (USER_HZ, 100 on Linux whatever the kernel's HZ). */
const USER_HZ = 100;

/** CPU time (user and system, ms, to 10 ms) of this process's children that ended and were waited for (/proc/self/stat cutime + cstime). */
export function endedChildrenCpuMs(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  // Fields after the command name (which may hold spaces) in parentheses: state is field 3, cutime 16, cstime 17.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / USER_HZ;
}

/** Resident set size in bytes after a forced GC when `--expose-gc` is on. */
export function rssAfterGc(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}
