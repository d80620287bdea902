#!/usr/bin/env -S node --max-semi-space-size=1 --optimize-for-size
// The shebang's V8 flags keep an AP small: a 1 MB young generation and
// size-optimised code hold one AP downloading 200 MB under 80 MB RSS and a
// fleet near 86 KiB per AP, at no measurable cost in join or codec speed
// (npm run bench; test/bench/run.ts runs the benchmarks with the same flags).
import type { CommandIo } from "../agent/command-kit/index.js";
import { main } from "./main.js";

/**
 * A reader that closes our pipe (`vap capwap decode x | head -1`) has all it
 * wants: the command stops as on Ctrl-C and vap exits 0, printing nothing
 * more. Status 0 rather than a SIGPIPE'd tool's 141 because nothing failed,
 * so `set -o pipefail` scripts do not see an error where there was none.
 */
const stop = new AbortController();
let readerGone = false;
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
    readerGone = true;
    stop.abort();
  });
}

const io: CommandIo = {
  stdout: (t) => void (readerGone || process.stdout.write(t)),
  stderr: (t) => void (readerGone || process.stderr.write(t)),
  signal: stop.signal,
};
main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = readerGone ? 0 : code;
  },
  (err: unknown) => {
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 70;
  },
);
