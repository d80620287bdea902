/**
 * The AP's console lines kept for its console: the last LOG_RING_LINES
 * (`show logging`), and each new one handed to the sessions listening
 * (`logging console`, `debug capwap client …`). It wraps the AP's Log, so
 * every line the AP logs passes here whatever its sink; debug lines go to
 * listeners (a session shows them only when asked) but not to the ring,
 * which holds what the AP printed.
 */
import { ciscoTimestamp, type Clock, type Log, type LogFields } from "../core/index.js";
import type { ConsoleLine } from "../console/index.js";

type Level = ConsoleLine["level"];

export class LogRing {
  readonly #lines: string[] = [];
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
    return [...this.#lines.slice(this.#start), ...this.#lines.slice(0, this.#start)];
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
    const text = `${ciscoTimestamp(this.clock.wallNow())} ${msg}`;
    if (level !== "debug") {
      if (this.#lines.length < this.capacity) this.#lines.push(text);
      else {
        this.#lines[this.#start] = text;
        this.#start = (this.#start + 1) % this.capacity;
      }
    }
    for (const listener of this.#listeners) {
      try {
        listener({ text, level });
      } catch {
        // A session whose transport broke must not stop the AP's logging; the transport ends it.
      }
    }
  }
}
