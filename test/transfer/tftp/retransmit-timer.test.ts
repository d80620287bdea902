/** The transfer's one retransmission timer: arming moves its deadline, cancelling stops it, and it fires once per deadline. */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../agent/core/index.js";
import { RetransmitTimer } from "../../../agent/transfer/tftp/peer.js";

function timer() {
  const clock = new ManualClock();
  const fired: number[] = [];
  const t = new RetransmitTimer(clock, "tftp-retransmit", () => fired.push(clock.now()));
  return { clock, fired, t };
}

describe("RetransmitTimer", () => {
  it("re-arming before expiry moves the deadline: it fires once, a full wait after the last arm", () => {
    const { clock, fired, t } = timer();
    t.arm(1000);
    clock.advance(600);
    t.arm(1000);
    clock.advance(600);
    t.arm(1000);
    clock.advance(999);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([2200]);
    clock.advance(5000);
    expect(fired).toEqual([2200]);
  });

  it("a sooner deadline (a back-off reset to the base wait) fires at that deadline", () => {
    const { clock, fired, t } = timer();
    t.arm(8000);
    clock.advance(100);
    t.arm(1000);
    clock.advance(1000);
    expect(fired).toEqual([1100]);
    clock.advance(10_000);
    expect(fired).toEqual([1100]);
  });

  it("cancel stops it, and arming again starts a fresh wait", () => {
    const { clock, fired, t } = timer();
    t.arm(1000);
    clock.advance(500);
    t.cancel();
    clock.advance(2000);
    expect(fired).toEqual([]);
    t.arm(300);
    clock.advance(300);
    expect(fired).toEqual([2800]);
  });
});
