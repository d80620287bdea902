/** What a command sees of the session it runs in (session.ts implements it). */
import type { ConsoleHost } from "./host.js";

/**
 * The debug lines `debug capwap client <topic>` lets through to a session:
 * each topic names the AP's debug-level console lines it matches — these
 * are all the debug lines the AP has.
 */
export const DEBUG_TOPICS = {
  image: { help: "Image Data debug lines (blocks dropped beyond the receive span)", matches: (line: string) => line.includes("] Image Data ") },
  payload: { help: "CAPWAP payload debug lines (elements kept raw, their summaries)", matches: (line: string) => / elements? kept raw/.test(line) },
} as const;

export type DebugTopic = keyof typeof DEBUG_TOPICS;

export interface Shell {
  readonly host: ConsoleHost;
  /** Text for the operator now ("\n"-terminated lines), unfiltered: a download's progress. */
  write(text: string): void;
  /** The operator's next line, after showing `prompt` (a secret one not echoed). Rejects when the command is interrupted. */
  ask(prompt: string, secret: boolean): Promise<string>;
  /** Aborted by Ctrl-C or the session's end, for the command that runs now. */
  readonly signal: AbortSignal;
  /** Privileged EXEC (`#`) or user EXEC (`>`). */
  privileged: boolean;
  /** Whether a secret is the enable secret. */
  checkEnableSecret(secret: string): Promise<boolean>;
  /** The command ends the session (exit, logout, reload): once it returns, its output is written and the transport told to close. */
  logout(): void;
  /** exec-timeout, ms; 0: never. */
  idleTimeoutMs: number;
  terminal: { length: number; width: number };
  /** `logging console`: the AP's log lines appear on this session. */
  loggingConsole: boolean;
  readonly debug: Set<DebugTopic>;
}
