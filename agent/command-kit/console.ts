import type { CommandIo } from "./command.js";
import { ciscoTimestamp, type ConsoleSink, createLog, DroppingOutput, type Log, systemClock } from "../core/index.js";

/** What a log says once its output reads again after lines were dropped. */
const droppedLines = (dropped: number) => `${dropped} log lines dropped: the output was not read fast enough`;

/**
 * Cisco console lines on stdout. Into `io.logOutput`, lines that come while
 * its reader lags are dropped, and a line says how many once it reads again.
 */
export function cliConsole(io: CommandIo): ConsoleSink {
  if (!io.logOutput) return (line) => io.stdout(`${line}\n`);
  const output = new DroppingOutput(io.logOutput, (dropped) => output.write(`${ciscoTimestamp(systemClock.wallNow())} ${droppedLines(dropped)}\n`));
  return (line) => output.write(`${line}\n`);
}

/** The human console (cliConsole) or, with --json, pino JSON records on stdout, dropped and counted the same way. */
export function cliLog(io: CommandIo, json: boolean): Log {
  if (!json) return createLog({ console: cliConsole(io) });
  const output = io.logOutput && new DroppingOutput(io.logOutput, (dropped) => log.warn(droppedLines(dropped)));
  const log = createLog({ json: { write: output ? (text: string) => output.write(text) : io.stdout } });
  return log;
}

export interface StopListener {
  /** Resolves with "SIGINT", "SIGTERM" or "abort", the first that came. */
  readonly stopped: Promise<string>;
  /** That one, once it came. */
  readonly signal: string | undefined;
  /** Stop listening (the command ends another way); `stopped` then never resolves. */
  dispose(): void;
}

/**
 * Listen for SIGINT, SIGTERM or `abort` from now on. A command that starts
 * daemons (nginx) listens before it starts them: a Ctrl-C that comes while
 * it starts then ends it cleanly, daemons and folders with it, where Node's
 * default would kill it and leave its daemons running. Only the first
 * signal is taken: a second Ctrl-C still kills at once.
 */
export function listenForStop(abort?: AbortSignal): StopListener {
  let signal: string | undefined;
  let resolve!: (signal: string) => void;
  const stopped = new Promise<string>((r) => (resolve = r));
  const dispose = () => {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    abort?.removeEventListener("abort", onAbort);
  };
  const done = (s: string) => {
    dispose();
    signal = s;
    resolve(s);
  };
  const onInt = () => done("SIGINT");
  const onTerm = () => done("SIGTERM");
  const onAbort = () => done("abort");
  process.once("SIGINT", onInt);
  process.once("SIGTERM", onTerm);
  if (abort?.aborted) done("abort");
  else abort?.addEventListener("abort", onAbort);
  return {
    stopped,
    get signal() {
      return signal;
    },
    dispose,
  };
}

/** Resolve on the first SIGINT or SIGTERM, or when `abort` fires (long-running commands stop cleanly). */
export function untilSignal(abort?: AbortSignal): Promise<string> {
  return listenForStop(abort).stopped;
}
