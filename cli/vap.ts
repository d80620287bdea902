#!/usr/bin/env -S node --max-semi-space-size=1 --optimize-for-size
// The shebang's V8 flags keep an AP small: a 1 MB young generation and
// size-optimised code hold one AP downloading 200 MB under 80 MB RSS and a
// fleet near 86 KiB per AP, at no measurable cost in join or codec speed
// (npm run bench; test/bench/run.ts runs the benchmarks with the same flags).
import { main } from "./main.js";
import { processIo } from "./process-io.js";

const { io, readerGone } = processIo();
main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = readerGone() ? 0 : code;
  },
  (err: unknown) => {
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 70;
  },
);
