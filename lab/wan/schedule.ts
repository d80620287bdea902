/**
 * Runs deliveries at absolute due times with one timer for the whole proxy.
 *
 * Why absolute times: the link model computes every departure from the
 * previous one (serialization) and from arrival (delay), never from when a
 * timer actually fired, so a late timer delays packets but never stretches
 * the schedule, and throughput at the link rate is kept however coarse the
 * timers are. When the timer fires, everything due by then goes at once, in
 * due order (ties in the order they were scheduled).
 */
import { type Clock, DueHeap, type TimerHandle } from "../../agent/core/index.js";

/**
 * A FIFO stream of deliveries (one direction of the link): a delivery that is
 * already due runs at once only when nothing of its lane still waits, so the
 * fast path never overtakes the queue.
 */
export interface Lane {
  /** Deliveries of this lane waiting for their time. */
  readonly pending: number;
}

interface MutableLane {
  pending: number;
}

interface Entry {
  due: number;
  seq: number;
  lane: MutableLane;
  run: () => void;
}

/**
 * Node timers count whole milliseconds from the event loop's cached time, so
 * one may fire up to a millisecond before `due` on the precise clock. Running
 * what falls due within half of that, instead of re-arming for a sub-ms wait
 * (which costs a whole extra millisecond), centres the error on zero.
 */
const TIMER_SLACK_MS = 0.5;

export class DeliveryScheduler {
  // Deliveries arrive nearly in due order, so pushes rarely sift far.
  readonly #heap = new DueHeap<Entry>();
  #seq = 0;
  #timer: TimerHandle | undefined;
  #timerDue = Infinity;
  #closed = false;

  constructor(private readonly clock: Clock) {}

  lane(): Lane {
    return { pending: 0 };
  }

  /** Run `fn` at `due` (on the clock's `now()` scale). */
  run(lane: Lane, due: number, fn: () => void): void {
    if (this.#closed) return;
    const l = lane as MutableLane;
    if (l.pending === 0 && due <= this.clock.now()) {
      fn();
      return;
    }
    l.pending++;
    this.#heap.push({ due, seq: this.#seq++, lane: l, run: fn });
    if (due < this.#timerDue) this.#arm();
  }

  /** Drop everything still waiting. */
  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#heap.clear();
  }

  #arm(): void {
    this.#timer?.cancel();
    const head = this.#heap.peek();
    if (!head) {
      this.#timer = undefined;
      this.#timerDue = Infinity;
      return;
    }
    this.#timerDue = head.due;
    this.#timer = this.clock.setTimer("wan-delivery", Math.max(0, head.due - this.clock.now()), () => this.#fire());
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerDue = Infinity;
    const horizon = this.clock.now() + TIMER_SLACK_MS;
    for (let head = this.#heap.peek(); head && head.due <= horizon && !this.#closed; head = this.#heap.peek()) {
      this.#heap.pop();
      head.lane.pending--;
      head.run();
    }
    if (!this.#closed) this.#arm();
  }
}
