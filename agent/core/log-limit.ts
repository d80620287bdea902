/**
 * Keeping a flood of one kind of line from becoming a flood of log: a peer
 * sending garbage must cost a few lines, not a line per packet (a fragment
 * flood once wrote 79 MB of log in 8 s).
 */
import type { Clock, TimerHandle } from "./clock.js";
import type { Log } from "./log.js";

/** How a RepeatLimiter thins one kind of line. */
export interface RepeatLimit {
  /** Lines logged in full for one (source, reason) before it only gets summaries. */
  firstLines: number;
  /** How often the summary of what was held back goes out. */
  summaryIntervalMs: number;
  /** Most (source, reason) pairs tracked at once; sources beyond them count together as OTHER_SOURCES. */
  maxPairs: number;
}

/** A handful of lines show what is wrong; one summary every ten seconds shows that it goes on. */
export const DEFAULT_REPEAT_LIMIT: RepeatLimit = { firstLines: 5, summaryIntervalMs: 10_000, maxPairs: 1024 };

/** Where occurrences from sources past `maxPairs` are counted (spoofed sources cannot grow the table). */
export const OTHER_SOURCES = "other sources";

export interface RepeatLimiterOptions {
  log: Log;
  clock: Clock;
  /** What is counted, as the summary says it: "packets discarded". */
  what: string;
  level?: "debug" | "info" | "warn";
  limit?: RepeatLimit;
}

interface Pair {
  readonly source: string;
  readonly reason: string;
  /** Occurrences since `since`. */
  count: number;
  /** Of those, how many were not logged in full. */
  held: number;
  /** Lines logged in full since the pair was last quiet for a whole interval. */
  shown: number;
  since: number;
}

/**
 * Lines keyed by (source, reason): the first `firstLines` of a pair are
 * logged as given; after that the pair is counted, and every
 * `summaryIntervalMs` one line says `N packets discarded from X in the last
 * T: reason` (N counts every occurrence in that time, shown or not). A pair
 * quiet for a whole interval is forgotten, so the next occurrence is shown in
 * full again. Time comes from the injected Clock.
 */
export class RepeatLimiter {
  readonly #o: Required<RepeatLimiterOptions>;
  readonly #pairs = new Map<string, Pair>();
  #tick: TimerHandle | undefined;

  constructor(options: RepeatLimiterOptions) {
    this.#o = { level: "info", limit: DEFAULT_REPEAT_LIMIT, ...options };
  }

  /**
   * One occurrence of `reason` from `source`: logs `line()` (built only when
   * it is logged) while the pair is within its first lines, counts it
   * either way. True when it was logged.
   */
  record(source: string, reason: string, line: () => string): boolean {
    const pair = this.#pair(source, reason);
    pair.count++;
    if (pair.shown < this.#o.limit.firstLines) {
      pair.shown++;
      this.#o.log[this.#o.level](line());
      return true;
    }
    pair.held++;
    return false;
  }

  /** Summaries of what is held back now (a shutdown), and forget every pair. */
  flush(): void {
    this.#tick?.cancel();
    this.#tick = undefined;
    for (const pair of this.#pairs.values()) if (pair.held > 0) this.#summarize(pair);
    this.#pairs.clear();
  }

  #pair(source: string, reason: string): Pair {
    let pair = this.#pairs.get(pairKey(source, reason));
    if (pair) return pair;
    if (this.#pairs.size >= this.#o.limit.maxPairs) {
      source = OTHER_SOURCES;
      pair = this.#pairs.get(pairKey(source, reason));
      if (pair) return pair;
    }
    pair = { source, reason, count: 0, held: 0, shown: 0, since: this.#o.clock.now() };
    this.#pairs.set(pairKey(source, reason), pair);
    this.#tick ??= this.#o.clock.setTimer("log-summary", this.#o.limit.summaryIntervalMs, () => this.#onTick());
    return pair;
  }

  #onTick(): void {
    this.#tick = undefined;
    const now = this.#o.clock.now();
    for (const [key, pair] of this.#pairs) {
      if (pair.held === 0) {
        this.#pairs.delete(key);
        continue;
      }
      this.#summarize(pair);
      pair.count = 0;
      pair.held = 0;
      pair.since = now;
    }
    if (this.#pairs.size > 0) this.#tick = this.#o.clock.setTimer("log-summary", this.#o.limit.summaryIntervalMs, () => this.#onTick());
  }

  #summarize(pair: Pair): void {
    const elapsed = formatInterval(this.#o.clock.now() - pair.since);
    this.#o.log[this.#o.level](`${pair.count} ${this.#o.what} from ${pair.source} in the last ${elapsed}: ${pair.reason}`);
  }
}

function pairKey(source: string, reason: string): string {
  return `${source}\u0000${reason}`;
}

/** "850 ms", "10 s", "2.5 s". */
function formatInterval(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 100) / 10} s`;
}
