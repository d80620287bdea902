/**
 * The AP's console lines kept for its console: the last LOG_RING_LINES
 * (`show logging`), and each new one handed to the sessions listening
 * (`logging console`, `debug capwap client …`). It wraps the AP's Log, so
 * every line the AP logs passes here whatever its sink; debug lines go to
 * listeners (a session shows them only when asked) but not to the ring,
 * which holds what the AP printed. Every line an AP logs passes here, so
 * a line is kept as its time and text and formatted only when shown (`show
 * logging`) or when a session listens: a fleet nobody looks at pays no
 * time stamp per line.
 */
import { ciscoTimestamp, type Clock, type Log, type LogFields } from "../core/index.js";
import type { ConsoleLine } from "../console/index.js";

type Level = ConsoleLine["level"];

/** A kept line: when, and what. */
interface Entry {
  at: number;
  msg: string;
}

const consoleLine = (e: Entry) => `${ciscoTimestamp(e.at)} ${e.msg}`;

export class LogRing {
  readonly #entries: Entry[] = [];
  /** Where the oldest line is once the ring is full. */
  #start = 0;
  readonly #listeners = new Set<(line: ConsoleLine) => void>();
  /** The AP's log, teed here. */
  readonly log: Log;

  constructor(
    inner: Log,
    private readonly clock: Clock,
    private readonly capacity: number,
  ) {
    this.log = this.#wrap(inner);
  }

  /** The kept lines, oldest first. */
  lines(): string[] {
    return [...this.#entries.slice(this.#start), ...this.#entries.slice(0, this.#start)].map(consoleLine);
  }

  onLine(listener: (line: ConsoleLine) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #wrap(inner: Log): Log {
    const tee = (level: Level) => (msg: string, fields?: LogFields) => {
      inner[level](msg, fields);
      this.#record(level, msg);
    };
    return { debug: tee("debug"), info: tee("info"), warn: tee("warn"), error: tee("error"), child: (bindings, options) => this.#wrap(inner.child(bindings, options)) };
  }

  #record(level: Level, msg: string): void {
    const entry = { at: this.clock.wallNow(), msg };
    if (level !== "debug") {
      if (this.#entries.length < this.capacity) this.#entries.push(entry);
      else {
        this.#entries[this.#start] = entry;
        this.#start = (this.#start + 1) % this.capacity;
      }
    }
    if (this.#listeners.size === 0) return;
    const text = consoleLine(entry);
    for (const listener of this.#listeners) {
      try {
        listener({ text, level });
      } catch {
        // A session whose transport broke must not stop the AP's logging; the transport ends it.
      }
    }
  }
}
