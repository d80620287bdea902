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
  /** Stops a long-running command (tests); the process's SIGINT/SIGTERM always do. */
  signal?: AbortSignal;
}
