import type { CommandIo } from "./command.js";
import { createLog, type Log } from "../core/index.js";

/** The human console (Cisco lines on stdout) or, with --json, pino JSON records on stdout. */
export function cliLog(io: CommandIo, json: boolean): Log {
  return json ? createLog({ json: { write: (s: string) => void io.stdout(s) } }) : createLog({ console: (line) => io.stdout(`${line}\n`) });
}

/** Resolve on the first SIGINT or SIGTERM, or when `abort` fires (long-running commands stop cleanly). */
export function untilSignal(abort?: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    const done = (signal: string) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      abort?.removeEventListener("abort", onAbort);
      resolve(signal);
    };
    const onInt = () => done("SIGINT");
    const onTerm = () => done("SIGTERM");
    const onAbort = () => done("abort");
    process.once("SIGINT", onInt);
    process.once("SIGTERM", onTerm);
    if (abort?.aborted) done("abort");
    else abort?.addEventListener("abort", onAbort);
  });
}
