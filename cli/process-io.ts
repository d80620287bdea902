import { type CommandIo, readSecret } from "../agent/command-kit/index.js";

/**
 * The CommandIo of the `vap` process: its stdout and stderr, log lines into
 * stdout through a dropping output (a stalled reader costs lines, not
 * memory), and a stop signal.
 *
 * A reader that closes our pipe (`vap capwap decode x | head -1`) has all it
 * wants: the command stops as on Ctrl-C and vap exits 0, printing nothing
 * more. Status 0 rather than a SIGPIPE'd tool's 141 because nothing failed,
 * so `set -o pipefail` scripts do not see an error where there was none.
 *
 * A password is asked for on the terminal only when stdin is one.
 */
export function processIo(): { io: CommandIo; readerGone: () => boolean } {
  const stop = new AbortController();
  let gone = false;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") throw err;
      gone = true;
      stop.abort();
    });
  }
  const io: CommandIo = {
    stdout: (t) => void (gone || process.stdout.write(t)),
    stderr: (t) => void (gone || process.stderr.write(t)),
    logOutput: {
      write: (t) => gone || process.stdout.write(t),
      once: (event, listener) => process.stdout.once(event, listener),
    },
    signal: stop.signal,
    isTerminal: process.stdout.isTTY === true,
    ...(process.stdin.isTTY ? { askSecret: (prompt: string) => readSecret(prompt, process.stdin, io.stderr) } : {}),
  };
  return { io, readerGone: () => gone };
}
