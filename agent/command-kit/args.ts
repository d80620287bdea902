/**
 * Command-line parsing for every `vap` command: node:util parseArgs, whose
 * plain TypeErrors become one-line CommandLineErrors (exit status 2), and the checks flags keep
 * needing, each naming the flag and the value it got.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { classNames, isClassName, type ClassName } from "../../platform/classes/index.js";
import { ConfigError } from "../core/index.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * The command line itself is wrong (an unknown option, a missing value, the
 * wrong arguments): the message names the mistake, and `vap` adds a pointer
 * to the command's --help, since the fix is to read it. A flag with a bad
 * value is a plain ConfigError, whose message already says what it wants.
 */
export class CommandLineError extends ConfigError {}

export function parseOptions<O extends Options>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options });
  } catch (err) {
    throw new CommandLineError(parseArgsProblem(err as Error));
  }
}

/**
 * parseArgs's first line ("Unknown option '--x'"), without its advice on
 * passing `--x` as a positional after `--`, which vap commands never want.
 */
function parseArgsProblem(err: Error): string {
  return err.message.split("\n", 1)[0]!.replace(/\. To specify a positional argument .*$/, "");
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
  if (positionals.length > 0) throw new CommandLineError(`unexpected argument "${positionals[0]}"`);
}

/** Exactly one positional argument (a FILE or DIR); otherwise the command's usage line. */
export function onePositional(positionals: readonly string[], usage: string): string {
  if (positionals.length !== 1) throw new CommandLineError(`usage: vap ${usage.split("\n")[0]}`);
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
