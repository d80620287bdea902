/**
 * Benchmarks print one JSON object per line (DESIGN.md): what was measured,
 * the value, its unit, and the bound it is judged against (a physical limit,
 * a peer measured in the same run, or the target).
 */
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

/** Resident set size in bytes after a forced GC when `--expose-gc` is on. */
export function rssAfterGc(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}
