/**
 * A small validator for operator input: every failure names the file and the
 * field path, in one line ("ap.yaml: timers.echoInterval: expected a
 * duration like 30s or 500ms, got "soon"").
 */
import { isIP } from "node:net";
import { ConfigError } from "../core/index.js";

export class Fields {
  constructor(
    private readonly source: string,
    private readonly value: Record<string, unknown>,
    private readonly path = "",
  ) {}

  static root(source: string, value: unknown): Fields {
    if (!isObject(value)) throw new ConfigError(`${source}: expected a mapping of settings at the top level`);
    return new Fields(source, value);
  }

  fail(field: string, reason: string): never {
    throw new ConfigError(`${this.source}: ${this.path}${field}: ${reason}`);
  }

  /** Reject fields the schema does not know (typos must not pass silently). */
  only(...known: string[]): void {
    for (const k of Object.keys(this.value)) if (!known.includes(k)) this.fail(k, `unknown setting (known: ${known.join(", ")})`);
  }

  /** The field's value as given, unchecked (for a check of its own). */
  raw(field: string): unknown {
    return this.value[field];
  }

  has(field: string): boolean {
    return this.value[field] !== undefined && this.value[field] !== null;
  }

  /**
   * Text of 1 to `maxLength` characters. A YAML number is refused rather than
   * turned into text: `pskKey: 0011223344` would silently lose its zeros.
   */
  string(field: string, fallback?: string, maxLength = 1024): string {
    const v = this.value[field] ?? fallback;
    if (typeof v === "number") this.fail(field, `expected text, got the number ${v}: put it in quotes`);
    if (typeof v !== "string" || v === "") this.fail(field, v === undefined ? "is required" : `expected text, got ${JSON.stringify(v)}`);
    if (v.length > maxLength) this.fail(field, `longer than ${maxLength} characters`);
    return v;
  }

  /** Printable ASCII of 1 to `maxLength` characters (fixed-size fields on the wire). */
  ascii(field: string, fallback: string | undefined, maxLength: number): string {
    const v = this.string(field, fallback, maxLength);
    if (!/^[\x20-\x7e]+$/.test(v)) this.fail(field, `expected printable ASCII, got ${JSON.stringify(v)}`);
    return v;
  }

  optionalString(field: string): string | undefined {
    return this.has(field) ? this.string(field) : undefined;
  }

  oneOf<T extends string>(field: string, choices: readonly T[], fallback?: T): T {
    const v = this.string(field, fallback);
    if (!choices.includes(v as T)) this.fail(field, `expected one of ${choices.join(", ")}, got "${v}"`);
    return v as T;
  }

  integer(field: string, fallback: number, min: number, max: number): number {
    const v = this.value[field] ?? fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) this.fail(field, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    return v;
  }

  boolean(field: string, fallback: boolean): boolean {
    const v = this.value[field] ?? fallback;
    if (typeof v !== "boolean") this.fail(field, `expected true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  /**
   * A duration: a number of seconds, or text with a unit ("30s", "500ms",
   * "2m"); returned in ms. From 1 ms to 24 days: Node's timers turn 0 and
   * anything beyond 2^31 − 1 ms into 1 ms, a busy loop.
   */
  duration(field: string, fallbackMs: number): number {
    const v = this.value[field];
    if (v === undefined || v === null) return fallbackMs;
    const ms = parseDuration(v);
    if (ms === undefined) this.fail(field, `expected a duration like 30s or 500ms, got ${JSON.stringify(v)}`);
    if (ms < 1 || ms > MAX_TIMER_MS) this.fail(field, `expected a duration from 1ms to 24 days, got ${JSON.stringify(v)}`);
    return Math.round(ms);
  }

  ip(field: string): string {
    const v = this.string(field);
    if (!isIP(v)) this.fail(field, `"${v}" is not an IP address`);
    return v;
  }

  mac(field: string): string {
    const v = this.string(field).toLowerCase();
    const hex = v.replace(/[.:-]/g, "");
    if (!/^[0-9a-f]{12}$/.test(hex)) this.fail(field, `"${v}" is not a MAC address`);
    return hex.match(/../g)!.join(":");
  }

  object(field: string): Fields {
    const v = this.value[field] ?? {};
    if (!isObject(v)) this.fail(field, "expected a mapping of settings");
    return new Fields(this.source, v, `${this.path}${field}.`);
  }

  list(field: string): Fields[] {
    const v = this.value[field] ?? [];
    if (!Array.isArray(v)) this.fail(field, "expected a list");
    return v.map((item, i) => {
      if (!isObject(item)) this.fail(`${field}[${i}]`, "expected a mapping of settings");
      return new Fields(this.source, item, `${this.path}${field}[${i}].`);
    });
  }
}

/** The longest delay a Node timer keeps (2^31 − 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function parseDuration(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) && v >= 0 ? v * 1000 : undefined;
  if (typeof v !== "string") return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
}
