/** A counting semaphore: at most `limit` holders at once, the others wait their turn in order. */
export class Slots {
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  /** Resolves when fewer than `limit` hold a slot; call the result to free it. */
  acquire(): Promise<() => void> {
    const release = () => {
      this.#running--;
      this.#waiting.shift()?.();
    };
    if (this.#running < this.limit) {
      this.#running++;
      return Promise.resolve(release);
    }
    return new Promise((resolve) =>
      this.#waiting.push(() => {
        this.#running++;
        resolve(release);
      }),
    );
  }
}
