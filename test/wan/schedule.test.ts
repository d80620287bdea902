import { describe, expect, it } from "vitest";
import { type Clock, ManualClock } from "../../agent/core/index.js";
import { DeliveryScheduler } from "../../lab/wan/index.js";

function setup() {
  const clock = new ManualClock();
  const scheduler = new DeliveryScheduler(clock);
  const ran: string[] = [];
  const at = (lane = scheduler.lane()) => (due: number, name: string) => scheduler.run(lane, due, () => ran.push(`${name}@${clock.now()}`));
  return { clock, scheduler, ran, at };
}

describe("DeliveryScheduler", () => {
  it("runs each delivery at its due time, in due order, ties in the order scheduled", () => {
    const { clock, ran, at } = setup();
    const run = at();
    run(30, "c");
    run(10, "a");
    run(20, "b1");
    run(20, "b2");
    clock.advance(15);
    expect(ran).toEqual(["a@10"]);
    clock.advance(100);
    expect(ran).toEqual(["a@10", "b1@20", "b2@20", "c@30"]);
  });

  it("runs a delivery already due at once when its lane is empty", () => {
    const { clock, ran, at } = setup();
    clock.advance(50);
    at()(40, "late");
    expect(ran).toEqual(["late@50"]);
  });

  it("keeps a lane FIFO when its timer fires late: a delivery already due waits behind the lane's overdue ones", () => {
    // A clock whose timers fire only when the test says, however late.
    let now = 0;
    let timer: (() => void) | undefined;
    const late: Clock = {
      now: () => now,
      wallNow: () => now,
      setTimer: (_name, _ms, fn) => {
        timer = fn;
        return { cancel: () => (timer = undefined) };
      },
    };
    const scheduler = new DeliveryScheduler(late);
    const ran: string[] = [];
    const lane = scheduler.lane();
    scheduler.run(lane, 10, () => ran.push("first"));
    now = 15;
    // Due already, but "first" (due 10) has not gone yet: it must not be overtaken.
    scheduler.run(lane, 12, () => ran.push("second"));
    scheduler.run(scheduler.lane(), 12, () => ran.push("other lane"));
    expect(ran).toEqual(["other lane"]);
    expect(lane.pending).toBe(2);
    timer!();
    expect(ran).toEqual(["other lane", "first", "second"]);
    expect(lane.pending).toBe(0);
  });

  it("uses one timer, and sends everything due by the time it fires in one batch", () => {
    const { clock, ran, at } = setup();
    const run = at();
    for (let i = 0; i < 1_000; i++) run(10 + i * 0.0004, `p${i}`);
    expect(clock.pending()).toEqual(["wan-delivery"]);
    clock.advance(11);
    expect(ran).toHaveLength(1_000);
    expect(new Set(ran.map((r) => r.split("@")[1]))).toEqual(new Set(["10"]));
    expect(clock.pending()).toEqual([]);
  });

  it("re-arms for an earlier delivery scheduled after a later one", () => {
    const { clock, ran, at } = setup();
    const run = at();
    run(100, "later");
    run(10, "sooner");
    clock.advance(10);
    expect(ran).toEqual(["sooner@10"]);
    expect(clock.pending()).toEqual(["wan-delivery"]);
  });

  it("drops everything pending on close and ignores later deliveries", () => {
    const { clock, scheduler, ran, at } = setup();
    const run = at();
    run(10, "a");
    scheduler.close();
    run(0, "b");
    clock.advance(20);
    expect(ran).toEqual([]);
    expect(clock.pending()).toEqual([]);
  });
});
