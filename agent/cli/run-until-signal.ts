import type { CommandIo } from "./command.js";
import { createLog, type Log } from "../core/index.js";

/** The human console (Cisco lines on stdout) or, with --json, pino JSON records on stdout. */
export function cliLog(io: CommandIo, json: boolean): Log {
  return json ? createLog({ json: { write: (s: string) => void io.stdout(s) } }) : createLog({ console: (line) => io.stdout(`${line}\n`) });
}

/** Resolve on the first SIGINT or SIGTERM (long-running commands stop cleanly). */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const done = (signal: string) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      resolve(signal);
    };
    const onInt = () => done("SIGINT");
    const onTerm = () => done("SIGTERM");
    process.once("SIGINT", onInt);
    process.once("SIGTERM", onTerm);
  });
}
