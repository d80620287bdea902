/**
 * Time is injected everywhere (matter.js `Time`, zwave-js FSM timeouts as
 * inputs) so that state machines and transfers run deterministically under a
 * ManualClock in tests and against wall time in production.
 */
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
  cancelled: boolean;
}

/** A clock that moves only when the test says so. */
export class ManualClock implements Clock {
  #now = 0;
  #seq = 0;
  #timers: ManualTimer[] = [];
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
    const timer: ManualTimer = { name, due: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  /** Names of timers still pending, soonest first (for assertions). */
  pending(): string[] {
    return this.#live().map((t) => t.name);
  }

  /** Advance time by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const next = this.#live()[0];
      if (!next || next.due > target) break;
      this.#now = next.due;
      next.cancelled = true;
      next.fn();
    }
    this.#now = target;
    this.#timers = this.#live();
  }

  #live(): ManualTimer[] {
    return this.#timers.filter((t) => !t.cancelled).sort((a, b) => a.due - b.due || a.seq - b.seq);
  }
}
