/**
 * The fleet as a whole, from its workers' reports: the current counts (each
 * worker's latest), and everything that happened since the start.
 */
import { bump, emptyReport, epochNow, type ShardReport } from "./report.js";

export interface Distribution {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export class FleetTotals {
  readonly #latest = new Map<number, ShardReport>();
  readonly startedAt = performance.now();
  joins = 0;
  readonly joinSeconds: number[] = [];
  readonly handshakes = { ok: 0, failed: 0 };
  readonly imageBytes: Record<string, number> = {};
  readonly downloads: ShardReport["downloads"] = [];
  readonly restarts: Record<string, number> = {};
  /** The most downloads whose bytes flowed at once, fleet-wide (each worker's flows merged in time order). */
  peakInFlight = 0;
  #flowing = 0;
  /** Flow events not merged yet: a worker may still report earlier ones. */
  #flows: number[] = [];
  /** Per worker, the downloads it reported begun and not yet ended: a crashed worker's end now. */
  readonly #open = new Map<number, number>();
  /** Seconds from the start until every AP was in Run / upgraded, once it happened. */
  allInRunAfter: number | undefined;
  allUpgradedAfter: number | undefined;
  /** When the first download began and the last ended (seconds from the start): the storm's span. */
  firstDownloadAt: number | undefined;
  lastDownloadAt: number | undefined;

  /** (seconds from the start, joins so far) at each report: the recent join rate. */
  readonly #joinSamples: [number, number][] = [];

  /**
   * `workers` are the worker threads about to start: each holds the flow
   * merge back until its first report, since until then it may still report
   * flows older than the others' (a worker slow to start, its APs already
   * downloading, would otherwise be merged out of order and overcount).
   */
  constructor(
    readonly aps: number,
    workers: number,
  ) {
    for (let w = 0; w < workers; w++) this.#latest.set(w, emptyReport());
  }

  /** Joins per second over the last few seconds (the ramp's pace now, not the average since the start). */
  recentJoinRate(windowSeconds = 5): number {
    const now = this.elapsed();
    const from = this.#joinSamples.find(([t]) => t >= now - windowSeconds);
    if (!from || now - from[0] <= 0) return 0;
    return (this.joins - from[1]) / (now - from[0]);
  }

  add(worker: number, r: ShardReport): void {
    this.#latest.set(worker, r);
    this.joins += r.joins;
    for (const s of r.joinSeconds) this.joinSeconds.push(s);
    this.handshakes.ok += r.handshakes.ok;
    this.handshakes.failed += r.handshakes.failed;
    for (const [m, n] of Object.entries(r.imageBytes)) bump(this.imageBytes, m, n);
    for (const d of r.downloads) this.downloads.push(d);
    for (const [k, n] of Object.entries(r.restarts)) bump(this.restarts, k, n);
    const now = this.elapsed();
    this.#joinSamples.push([now, this.joins]);
    while (this.#joinSamples.length > 0 && this.#joinSamples[0]![0] < now - 60) this.#joinSamples.shift();
    this.#open.set(worker, r.flows.reduce((n, f) => n + Math.sign(f), this.#open.get(worker) ?? 0));
    this.#mergeFlows(r.flows);
    if (r.flows.length > 0 || r.downloads.length > 0) this.firstDownloadAt ??= now;
    if (r.downloads.length > 0) this.lastDownloadAt = now;
    if (this.allInRunAfter === undefined && this.inRun === this.aps) this.allInRunAfter = now;
    if (this.allUpgradedAfter === undefined && this.upgraded === this.aps) this.allUpgradedAfter = now;
  }

  /**
   * Count flows in time order up to the oldest of the workers' latest
   * reports: no worker can still report an event before that.
   */
  #mergeFlows(flows: readonly number[]): void {
    for (const f of flows) this.#flows.push(f);
    const watermark = Math.min(...[...this.#latest.values()].map((l) => l.at));
    this.#flows.sort((a, b) => Math.abs(a) - Math.abs(b) || a - b);
    let done = 0;
    for (const f of this.#flows) {
      if (Math.abs(f) > watermark) break;
      this.#flowing += f > 0 ? 1 : -1;
      this.peakInFlight = Math.max(this.peakInFlight, this.#flowing);
      done++;
    }
    this.#flows = this.#flows.slice(done);
  }

  /** Merge what is left (every worker stopped). */
  flush(): void {
    this.#mergeFlows([]);
    for (const f of this.#flows) {
      this.#flowing += f > 0 ? 1 : -1;
      this.peakInFlight = Math.max(this.peakInFlight, this.#flowing);
    }
    this.#flows = [];
  }

  /** A worker that crashed: its APs are no longer anywhere until it reports again, and their downloads ended with it. */
  forget(worker: number): void {
    this.#latest.delete(worker);
    const now = epochNow();
    for (let n = this.#open.get(worker) ?? 0; n > 0; n--) this.#flows.push(-now);
    this.#open.delete(worker);
  }

  elapsed(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  #sum(pick: (r: ShardReport) => number): number {
    let n = 0;
    for (const r of this.#latest.values()) n += pick(r);
    return n;
  }

  get inRun(): number {
    return this.#sum((r) => r.inRun);
  }

  get upgraded(): number {
    return this.#sum((r) => r.upgraded);
  }

  get inFlight(): number {
    return this.#sum((r) => r.inFlight);
  }

  get echoes(): number {
    return this.#sum((r) => r.echoes);
  }

  get echoIntervalMs(): number {
    return Math.max(0, ...[...this.#latest.values()].map((r) => r.echoIntervalMs));
  }

  get keepAlives(): number {
    return this.#sum((r) => r.keepAlives);
  }

  get keepAliveIntervalMs(): number {
    return Math.max(0, ...[...this.#latest.values()].map((r) => r.keepAliveIntervalMs));
  }

  /** APs per state, fleet-wide (APs of a worker that has not reported yet are Off). */
  states(): Record<string, number> {
    const states: Record<string, number> = {};
    let counted = 0;
    for (const r of this.#latest.values()) for (const [s, n] of Object.entries(r.states)) (bump(states, s, n), (counted += n));
    if (counted < this.aps) bump(states, "Off", this.aps - counted);
    return states;
  }

  restartCount(): number {
    return Object.values(this.restarts).reduce((a, b) => a + b, 0);
  }
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0 };
}
