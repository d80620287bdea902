/**
 * Command-line parsing for every `vap` command: node:util parseArgs, whose
 * plain TypeErrors become one-line ConfigErrors (exit status 2), and the checks flags keep
 * needing, each naming the flag and the value it got.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { classNames, isClassName, type ClassName } from "../../platform/classes/index.js";
import { ConfigError } from "../core/index.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

export function parseOptions<O extends Options>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

/** A whole number from `min` to `max`. */
export function integerFlag(flag: string, value: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`--${flag}: expected a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? " up" : ` to ${max}`}, got "${value}"`);
  }
  return n;
}

/** One of a fixed set of words. */
export function choiceFlag<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if (!choices.includes(value as T)) throw new ConfigError(`--${flag}: expected ${choices.join(" or ")}, got "${value}"`);
  return value as T;
}

/** No positional arguments allowed. */
export function noPositionals(positionals: readonly string[]): void {
  if (positionals.length > 0) throw new ConfigError(`unexpected argument "${positionals[0]}"`);
}

/** Exactly one positional argument (a FILE or DIR); otherwise the command's usage line. */
export function onePositional(positionals: readonly string[], usage: string): string {
  if (positionals.length !== 1) throw new ConfigError(`usage: vap ${usage.split("\n")[0]}`);
  return positionals[0]!;
}

/** A hardware class (ap1g8). */
export function classFlag(flag: string, value: string): ClassName {
  if (!isClassName(value)) throw new ConfigError(`--${flag}: "${value}" is not a hardware class (${classNames.join(", ")})`);
  return value;
}

/** Hardware classes, comma-separated, or "all". */
export function classListFlag(flag: string, value: string): ClassName[] {
  return value === "all" ? [...classNames] : value.split(",").map((c) => classFlag(flag, c));
}
