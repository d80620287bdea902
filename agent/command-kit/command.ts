import type { LogOutput } from "../core/index.js";

/**
 * A `vap` subcommand. Each capability contributes its commands from its own
 * module; the top-level `cli/` only lists them. `run` returns the process exit code.
 */
export interface Command {
  /** Words after `vap`, e.g. ["capwap", "decode"]. */
  readonly path: readonly string[];
  readonly summary: string;
  readonly usage: string;
  run(argv: string[], io: CommandIo): Promise<number>;
}

export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /**
   * Where a long-running command's log lines go when their reader may stall
   * (the process's stdout): lines are dropped and counted while it is full
   * rather than buffered. Without it, logs go to `stdout` (tests).
   */
  logOutput?: LogOutput;
  /** stdout is a terminal: a live view may redraw in place. */
  isTerminal?: boolean;
  /** Stops a long-running command (tests); the process's SIGINT/SIGTERM always do. */
  signal?: AbortSignal;
  /** Ask the user for a password without echo; present only when stdin is a terminal (readSecret). */
  askSecret?(prompt: string): Promise<string>;
}
