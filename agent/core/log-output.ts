/**
 * Where log text goes when the reader may stall: stdout piped into a
 * program that stopped reading must not make the writer buffer every line
 * (a controller grew from 62 MB to 1.17 GB in 16 s that way).
 */

/** What a log writes to. A Node Writable fits: write() returning false says "slow down", "drain" says it caught up. */
export interface LogOutput {
  write(text: string): boolean;
  once(event: "drain", listener: () => void): unknown;
}

/**
 * Passes text on until the output says its buffer is full, then drops and
 * counts what comes while it stays full; once it drains, `onResume(dropped)`
 * tells the owner, who logs how many lines were lost. What is buffered never
 * exceeds the output's own high-water mark and one piece of text.
 */
export class DroppingOutput {
  #full = false;
  #dropped = 0;
  #droppedTotal = 0;

  constructor(
    private readonly output: LogOutput,
    private readonly onResume: (dropped: number) => void,
  ) {}

  /** Pieces of text dropped since this output was made. */
  get dropped(): number {
    return this.#droppedTotal;
  }

  write(text: string): void {
    if (this.#full) {
      this.#dropped++;
      this.#droppedTotal++;
      return;
    }
    if (this.output.write(text)) return;
    this.#full = true;
    this.output.once("drain", () => this.#drained());
  }

  #drained(): void {
    this.#full = false;
    const dropped = this.#dropped;
    this.#dropped = 0;
    if (dropped > 0) this.onResume(dropped);
  }
}
