/**
 * Time is injected everywhere (matter.js `Time`, zwave-js FSM timeouts as
 * inputs) so that state machines and transfers run deterministically under a
 * ManualClock in tests and against wall time in production.
 */
import { DueHeap } from "./heap.js";

export interface TimerHandle {
  /** Cancel the timer; calling it twice is harmless. */
  cancel(): void;
}

export interface Clock {
  /** Milliseconds on a monotonic scale (not wall time). */
  now(): number;
  /** Wall-clock time in milliseconds since the epoch, for log lines and AP Time Sync. */
  wallNow(): number;
  setTimer(name: string, ms: number, fn: () => void): TimerHandle;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer(_name, ms, fn) {
    const t = setTimeout(fn, ms);
    // A pending protocol timer must never keep a finished CLI process alive.
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

interface ManualTimer {
  readonly name: string;
  readonly due: number;
  readonly seq: number;
  readonly fn: () => void;
  state: "pending" | "cancelled" | "fired";
}

/** Below this many, cancelled timers simply wait to reach the top of the heap. */
const COMPACT_MIN = 64;

/**
 * A clock that moves only when the test says so. Timers wait in a heap on
 * (due, seq), so a simulation with thousands of timers pays O(log n) per
 * timer set or fired. A cancelled timer stays in the heap and is dropped when
 * it reaches the top, or with all the others once cancelled timers make up
 * most of the heap (a timer re-armed per packet must not grow it forever).
 */
export class ManualClock implements Clock {
  #now = 0;
  #seq = 0;
  readonly #timers = new DueHeap<ManualTimer>();
  #cancelled = 0;
  readonly #wallBase: number;

  constructor(wallBase = Date.UTC(2024, 0, 30, 21, 41, 35)) {
    this.#wallBase = wallBase;
  }

  now(): number {
    return this.#now;
  }

  wallNow(): number {
    return this.#wallBase + this.#now;
  }

  setTimer(name: string, ms: number, fn: () => void): TimerHandle {
    const timer: ManualTimer = { name, due: this.#now + Math.max(0, ms), seq: this.#seq++, fn, state: "pending" };
    this.#timers.push(timer);
    return { cancel: () => this.#cancel(timer) };
  }

  /** Names of timers still pending, soonest first (for assertions). */
  pending(): string[] {
    return this.#timers
      .values()
      .filter((t) => t.state === "pending")
      .sort((a, b) => a.due - b.due || a.seq - b.seq)
      .map((t) => t.name);
  }

  /** Advance time by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const next = this.#next();
      if (!next || next.due > target) break;
      this.#timers.pop();
      this.#now = next.due;
      next.state = "fired";
      next.fn();
    }
    this.#now = target;
  }

  #cancel(timer: ManualTimer): void {
    if (timer.state !== "pending") return;
    timer.state = "cancelled";
    if (++this.#cancelled > COMPACT_MIN && this.#cancelled * 2 > this.#timers.size) {
      this.#timers.retain((t) => t.state === "pending");
      this.#cancelled = 0;
    }
  }

  /** The earliest pending timer, dropping cancelled ones on the way. */
  #next(): ManualTimer | undefined {
    let next = this.#timers.peek();
    while (next?.state === "cancelled") {
      this.#timers.pop();
      this.#cancelled--;
      next = this.#timers.peek();
    }
    return next;
  }
}
