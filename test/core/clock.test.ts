import { describe, expect, it } from "vitest";
import { ManualClock } from "../../agent/core/index.js";

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
});
