/** A `vap` command (or a bench's helper script) in its own process for a benchmark, started with the V8 flags of the `vap` binary's shebang, as users run it. */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const vapBinary = join(dirname(fileURLToPath(import.meta.url)), "../../cli/vap.js");
const vapFlags = readFileSync(vapBinary, "utf8").split("\n", 1)[0]!.split(/\s+/).filter((a) => a.startsWith("--"));

/** The program and arguments that run the compiled `script` with `vap`'s V8 flags (for a caller that wraps them, e.g. in `ip netns exec`). */
export function nodeCommand(script: string, args: readonly string[]): [string, ...string[]] {
  return [process.execPath, ...vapFlags, script, ...args];
}

/** The program and arguments that run `vap ARGS…` as users run it. */
export function vapCommand(args: readonly string[]): [string, ...string[]] {
  return nodeCommand(vapBinary, args);
}

/** Start `vap ARGS…` and resolve once what it printed matches `ready`, with the ports its groups captured and all it printed so far. */
export async function vapProcess(args: string[], ready: RegExp): Promise<{ ports: number[]; child: ChildProcess; output: () => string }> {
  const [program, ...rest] = vapCommand(args);
  const child = spawn(program, rest, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  for (let i = 0; i < 1000 && child.exitCode === null; i++) {
    const m = ready.exec(out);
    if (m) return { ports: m.slice(1).map(Number), child, output: () => out };
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  child.kill();
  throw new Error(`vap ${args.join(" ")} did not start: ${out}`);
}
