import { pino, type DestinationStream, type Logger } from "pino";
import { systemClock, type Clock } from "./clock.js";

/**
 * One call logs twice: a pino JSON record for machines and, when a console
 * sink is attached, the Cisco-style line a real AP prints
 * (`[*01/30/2024 21:41:35.1120] CAPWAP State: Join`). The message text *is* the
 * console line, so grep patterns users know from real APs work on both.
 */
export type ConsoleSink = (line: string) => void;

export type LogFields = Record<string, unknown>;

export interface Log {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A log for a sub-component; `console` replaces the console sink when given. */
  child(bindings: LogFields, options?: { console?: ConsoleSink | null }): Log;
}

/** Fields that must never reach a log line, whatever a caller passes. */
const REDACT = ["password", "pass", "secret", "key", "psk", "token", "*.password", "*.psk", "*.key", "*.token", "*.secret"];

/** `[*MM/DD/YYYY HH:MM:SS.mmmm]` — Cisco prints tenths of a millisecond (4 digits), in UTC here. */
export function ciscoTimestamp(wallMs: number): string {
  const d = new Date(wallMs);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const frac = p(d.getUTCMilliseconds() * 10, 4);
  return `[*${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}/${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${frac}]`;
}

export interface LogOptions {
  /** pino level; default "info". */
  level?: string;
  /** Where JSON records go; `null` disables them. Default: none (console only). */
  json?: DestinationStream | null;
  console?: ConsoleSink | null;
  clock?: Clock;
  bindings?: LogFields;
}

class VapLog implements Log {
  constructor(
    private readonly pinoLog: Logger | null,
    private readonly consoleSink: ConsoleSink | null,
    private readonly clock: Clock,
    private readonly levelValue: number,
  ) {}

  debug(msg: string, fields?: LogFields): void {
    this.#emit("debug", 20, msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.#emit("info", 30, msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.#emit("warn", 40, msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.#emit("error", 50, msg, fields);
  }

  child(bindings: LogFields, options?: { console?: ConsoleSink | null }): Log {
    const sink = options && "console" in options ? (options.console ?? null) : this.consoleSink;
    return new VapLog(this.pinoLog?.child(bindings) ?? null, sink, this.clock, this.levelValue);
  }

  #emit(level: "debug" | "info" | "warn" | "error", value: number, msg: string, fields?: LogFields): void {
    if (value < this.levelValue) return;
    if (this.pinoLog) {
      if (fields) this.pinoLog[level](fields, msg);
      else this.pinoLog[level](msg);
    }
    this.consoleSink?.(`${ciscoTimestamp(this.clock.wallNow())} ${msg}`);
  }
}

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

export function createLog(options: LogOptions = {}): Log {
  const level = options.level ?? "info";
  const levelValue = LEVELS[level];
  if (levelValue === undefined) throw new Error(`unknown log level "${level}"`);
  const pinoLog = options.json
    ? pino({ level, base: options.bindings ?? {}, redact: { paths: REDACT, censor: "*****" } }, options.json)
    : null;
  return new VapLog(pinoLog, options.console ?? null, options.clock ?? systemClock, levelValue);
}

/** A log that goes nowhere (tests, benchmarks). */
export const silentLog: Log = createLog({ level: "silent" });
