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

/** Resident set size in bytes after a forced GC when `--expose-gc` is on. */
export function rssAfterGc(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}
