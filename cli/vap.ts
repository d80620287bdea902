#!/usr/bin/env -S node --max-semi-space-size=1 --optimize-for-size
// The shebang's V8 flags keep an AP small: a 1 MB young generation and
// size-optimised code hold one AP downloading 200 MB under 80 MB RSS and a
// fleet near 86 KiB per AP, at no measurable cost in join or codec speed
// (npm run bench; test/bench/run.ts runs the benchmarks with the same flags).
import type { CommandIo } from "../agent/command-kit/index.js";
import { main } from "./main.js";

const io: CommandIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};
main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 70;
  },
);
