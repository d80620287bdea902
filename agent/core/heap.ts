/** Anything scheduled: due at a time, ties broken by the order it was scheduled in. */
export interface Due {
  readonly due: number;
  readonly seq: number;
}

function before(a: Due, b: Due): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

/**
 * A binary min-heap on (due, seq): O(log n) to add or take the earliest, so
 * a simulation with thousands of timers never sorts them. Equal due times
 * come out in seq order, i.e. first scheduled, first out.
 */
export class DueHeap<T extends Due> {
  readonly #h: T[] = [];

  get size(): number {
    return this.#h.length;
  }

  /** The earliest entry, left in place. */
  peek(): T | undefined {
    return this.#h[0];
  }

  push(e: T): void {
    const h = this.#h;
    let i = h.push(e) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(e, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = e;
  }

  /** Remove and return the earliest entry. */
  pop(): T | undefined {
    const h = this.#h;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0) this.#siftDown(0, last!);
    return top;
  }

  /** Every entry, in no particular order. */
  values(): readonly T[] {
    return this.#h;
  }

  /** Keep only the entries `keep` accepts (O(n): filter, then rebuild bottom-up). */
  retain(keep: (e: T) => boolean): void {
    const h = this.#h;
    let kept = 0;
    for (const e of h) if (keep(e)) h[kept++] = e;
    h.length = kept;
    for (let i = (kept >> 1) - 1; i >= 0; i--) this.#siftDown(i, h[i]!);
  }

  clear(): void {
    this.#h.length = 0;
  }

  /** Put `e` at `i` and move it down until both children are later. */
  #siftDown(i: number, e: T): void {
    const h = this.#h;
    const n = h.length;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && before(h[child + 1]!, h[child]!)) child++;
      if (!before(h[child]!, e)) break;
      h[i] = h[child]!;
      i = child;
    }
    h[i] = e;
  }
}
