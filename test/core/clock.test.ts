import { describe, expect, it } from "vitest";
import { ManualClock, seededRandom, type Clock } from "../../agent/core/index.js";

describe("ManualClock", () => {
  it("fires a timer only when its time has fully elapsed", () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    clock.setTimer("retransmit", 3000, () => fired.push("retransmit"));
    clock.advance(2999);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual(["retransmit"]);
  });

  it("fires due timers in order and lets a callback arm the next one", () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    clock.setTimer("b", 20, () => fired.push(`b@${clock.now()}`));
    clock.setTimer("a", 10, () => {
      fired.push(`a@${clock.now()}`);
      clock.setTimer("c", 5, () => fired.push(`c@${clock.now()}`));
    });
    clock.advance(100);
    expect(fired).toEqual(["a@10", "c@15", "b@20"]);
    expect(clock.now()).toBe(100);
  });

  it("never fires a cancelled timer", () => {
    const clock = new ManualClock();
    let fired = false;
    const t = clock.setTimer("echo", 5, () => (fired = true));
    t.cancel();
    clock.advance(10);
    expect(fired).toBe(false);
    expect(clock.pending()).toEqual([]);
  });

  it("fires in the same order as a sorted list would, through cancellations, re-arming and thousands of timers", () => {
    // The obvious implementation (sort every live timer, take the first) as the reference.
    class SortedClock implements Clock {
      #now = 0;
      #seq = 0;
      #timers: { name: string; due: number; seq: number; fn: () => void; live: boolean }[] = [];
      now = () => this.#now;
      wallNow = () => this.#now;
      setTimer(name: string, ms: number, fn: () => void) {
        const t = { name, due: this.#now + Math.max(0, ms), seq: this.#seq++, fn, live: true };
        this.#timers.push(t);
        return { cancel: () => void (t.live = false) };
      }
      advance(ms: number): void {
        const target = this.#now + ms;
        for (;;) {
          this.#timers = this.#timers.filter((t) => t.live).sort((a, b) => a.due - b.due || a.seq - b.seq);
          const next = this.#timers[0];
          if (!next || next.due > target) break;
          this.#now = next.due;
          next.live = false;
          next.fn();
        }
        this.#now = target;
      }
    }
    const run = (clock: Clock & { advance(ms: number): void }): string[] => {
      const random = seededRandom(7);
      const fired: string[] = [];
      const handles: { cancel(): void }[] = [];
      let id = 0;
      const arm = (ms: number): void => {
        const name = `t${id++}`;
        handles.push(
          clock.setTimer(name, ms, () => {
            fired.push(`${name}@${clock.now()}`);
            // A callback arms more (some due at once) and cancels others, as protocol timers do.
            if (random.next() < 0.3) arm(random.int(3) * 10);
            if (random.next() < 0.2) handles[random.int(handles.length)]!.cancel();
          }),
        );
      };
      for (let step = 0; step < 5000; step++) {
        const r = random.next();
        if (r < 0.45) arm(random.int(200) * 10);
        // Mostly recent timers, still pending: enough cancelled ones to make the heap compact itself.
        else if (r < 0.9) handles[handles.length - 1 - random.int(Math.min(handles.length, 100))]?.cancel();
        else clock.advance(random.int(50));
      }
      clock.advance(10_000);
      return fired;
    };
    const reference = run(new SortedClock());
    expect(reference.length).toBeGreaterThan(1000);
    expect(run(new ManualClock())).toEqual(reference);
  });
});
